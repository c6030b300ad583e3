/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl setup, inside: what its two files share. ctl-setup-unit.c
 * reads the host's Nautobot from nautobot.service over sd-bus (and starts the
 * units that waited for the configuration); ctl-setup.c owns the command: the
 * account, the secrets and the configuration it writes.
 */
#pragma once

#include "ctl.h"

#define NAUTOBOT_UNIT "nautobot.service"

/* What we know of the host's Nautobot, from its unit and the command line. */
typedef struct Nautobot {
        char *server;
        char *url;
        char *user;     /* User= of the unit; NULL: the owner of server */
        char *root;     /* NAUTOBOT_ROOT set by Environment= (a file's is read from the file) */
        char *config;   /* NAUTOBOT_CONFIG, the same */
        char *env_file; /* the first EnvironmentFile= */
        char *cwd;      /* WorkingDirectory= */
        char **env;     /* Environment= and the files', what nautobot-server gets */
        char **notes;   /* what setup could not carry over, said to the admin */
        bool from_unit;
} Nautobot;

void nautobot_done(Nautobot *n);

/*
 * Fills 'n' from --server/--url and nautobot.service: 0, -ENOMEM, or another
 * negative errno with *ret_reason saying why setup cannot go on.
 */
int nautobot_discover(const CtlOptions *o, Nautobot *n, char **ret_reason);

/* Starts the enabled .path and .timer of the check (of 'instance'; NULL: the default), which
 * waited for the configuration; says what it started, or could not. */
void setup_start_waiting_units(const char *instance);
