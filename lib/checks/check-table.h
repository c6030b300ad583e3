/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The checks, one line each, in the order they run and are reported: its
 * CheckId (CHECK_ID_ and the first word), its start function (its module,
 * check-NAME.c) and the rest of what the code knows of it (check.h's
 * CheckType: name, the upgrade step it confirms, the probe's sections it
 * reads, whether it is worth a Django boot, the noun for what it observed).
 * Written once, expanded three times: the enum (check-id.h), the start
 * functions' prototypes (check.h) and the table (check.c). Adding a check is
 * its module, its line here and its test.
 */
#pragma once

#define CHECK_TABLE(CHECK)                                                                         \
        CHECK(VERSIONS, check_versions_start, .name = "versions")                                  \
        CHECK(SYSTEM, check_command_start, .name = "system", .runs_server = true,                  \
              .probe_sections = "check,apps,cache,broker", .needs_probe = true)                    \
        CHECK(MIGRATIONS, check_command_start, .name = "migrations", .runs_server = true,          \
              .probe_sections = "makemigrations,migration_plan", .needs_probe = true)              \
        CHECK(DATABASE, check_database_start, .name = "database", .step = "migrate",               \
              .needs_database = true)                                                              \
        CHECK(STATIC, check_static_start, .name = "static", .step = "collectstatic")               \
        CHECK(RESTARTS, check_restarts_start, .name = "restarts", .step = "restart",               \
              .bus_driven = true)                                                                  \
        CHECK(RUNNING, check_running_start, .name = "running", .step = "web",                      \
              .probe_sections = "workers")                                                         \
        CHECK(JOBS, check_jobs_start, .name = "jobs", .probe_sections = "jobs",                    \
              .needs_probe = true, .observed = "Jobs")                                             \
        CHECK(PANELS, check_panels_start, .name = "panels", .probe_sections = "panels",            \
              .needs_probe = true, .observed = "panels")
