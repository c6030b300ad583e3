/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Environment files in the form systemd's EnvironmentFile= reads (see the
 * grammar in envfile.c): KEY=VALUE, '#' or ';' comments, single and double
 * quotes, backslash escapes and continuation lines. What systemd ignores with
 * a warning (a line without '=', an invalid KEY) is an error here.
 */
#pragma once

#include "util.h"

#define ENVFILE_SIZE_MAX    (64 * 1024)
#define ENVFILE_ENTRIES_MAX 256

/*
 * Parses text into "KEY=VALUE" strings appended to *env (a later KEY replaces
 * an earlier one). On a bad assignment returns -EINVAL (no '=', invalid KEY),
 * -EBADMSG (a quote left open) or -E2BIG (too many variables), and the 1-based
 * line where that assignment starts in *ret_line.
 */
int envfile_parse(const char *text, char ***env, unsigned *ret_line);

/* What an envfile_parse() error means, for a message after "file:line: ". */
const char *envfile_error_to_string(int r);

/* Reads and parses a file; errors as envfile_parse or as the read failed. */
int envfile_load(const char *path, char ***env, unsigned *ret_line);

/* Sets KEY=VALUE in *env, replacing an existing KEY. */
int env_set(char ***env, const char *key, const char *value);
