/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Environment files in the form systemd's EnvironmentFile= reads: KEY=VALUE
 * lines, '#' or ';' comments, values optionally in matching quotes.
 */
#pragma once

#include "util.h"

#define ENVFILE_SIZE_MAX    (64 * 1024)
#define ENVFILE_ENTRIES_MAX 256

/*
 * Parses text into "KEY=VALUE" strings appended to *env (a later KEY replaces
 * an earlier one). On a bad line returns -EINVAL and its 1-based number in
 * *ret_line.
 */
int envfile_parse(const char *text, char ***env, unsigned *ret_line);

/* Reads and parses a file; errors as envfile_parse or as the read failed. */
int envfile_load(const char *path, char ***env, unsigned *ret_line);

/* Sets KEY=VALUE in *env, replacing an existing KEY. */
int env_set(char ***env, const char *key, const char *value);
