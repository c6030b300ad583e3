/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of the configuration share and nobody else sees: the key
 * tables (config.c) and the questions asked of them, used by reading a file
 * (config-file.c), finalizing (config-finalize.c) and the per-app derivation
 * (config-apps.c). Include config.h for the public side.
 */
#pragma once

#include "config.h"
#include "metadata.h"

typedef int (*ConfigParser)(Config *c, void *field, const char *value, char **ret_error);

/* One key of the file: [section] key= parsed by 'parse' into the field at 'offset'. */
typedef struct ConfigKey {
        const char *section;
        const char *key;
        ConfigParser parse;
        size_t offset;
        const char *help; /* one line, printed by config_dump() */
} ConfigKey;

/* [app NAME] keys, parsed into an AppSection by the parsers of config_table. */
typedef struct AppKey {
        const char *key;
        ConfigParser parse;
        size_t offset;
        const char *help;
} AppKey;

extern const ConfigKey config_table[];
extern const size_t config_table_size;
extern const AppKey app_table[];
extern const size_t app_table_size;

/* Whether the key holds a list (empty value resets it, repeated keys append). */
bool config_key_is_list(const ConfigKey *k);

/* Whether the key is unset in c: an empty string or list (other kinds never are). */
bool config_key_is_empty(const Config *c, const ConfigKey *k);

/* The table entry of [section] key= and its index, or NULL. */
const ConfigKey *config_key_find(const char *section, const char *key, size_t *ret_index);

/* The line of the file that set [section] key= last, 0 when it did not. */
unsigned config_key_line(const Config *c, const char *section, const char *key);

/* "file:line: " where the file set [section] key= ("" when it did not); NULL: no memory. */
char *config_where_set(const Config *c, const char *section, const char *key);

/* The [app NAME] section of 'package' (PEP 503-normalised match), to change it, or NULL. */
AppSection *config_app_section_find(const Config *c, const char *package);

/*
 * The apps' part of config_finalize() (config-apps.c): single-app mode merges the
 * package's [app NAME] section, all-apps mode refuses the one-app keys; then the
 * profiles are loaded and the app's Jobs grouping taken from its profile.
 */
int config_finalize_apps(Config *c, char **ret_error);

/* What pip accepts as a distribution name (PEP 508): metadata.c's rule, the probe's too. */
_Static_assert(CONFIG_APP_NAME_MAX == PYTHON_NAME_MAX, "one limit for a distribution name");
static inline bool distribution_name_valid(const char *s)
{
        return python_name_valid(s);
}
