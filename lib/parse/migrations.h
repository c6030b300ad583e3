/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An app's Django migrations: the ones its installed code ships (files in
 * <site-packages>/<app>/migrations/) against the ones the database recorded
 * as applied (django_migrations).
 */
#pragma once

#include "util.h"

#define MIGRATIONS_MAX 4096

/*
 * Names ("0007_contract_billing_period") of NNNN_*.py files in
 * <site_packages>/<label>/migrations, sorted. Below site-packages nothing is
 * followed as a link (-ELOOP): the folders belong to whoever owns the venv.
 */
int migrations_list_dir(const char *site_packages, const char *label, char ***ret);

/*
 * What is on disk but not applied (forgot "migrate") and what is applied but
 * no longer on disk (a package rolled back without migrating back first).
 */
int migrations_compare(char *const *on_disk, char *const *applied, char ***ret_unapplied,
                       char ***ret_unknown);
