/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Installed Python distributions: finds <name>-<version>.dist-info under a
 * site-packages directory and reads Name and Version from its METADATA.
 */
#pragma once

#include "util.h"

#define METADATA_SIZE_MAX   (4 * 1024 * 1024) /* the body carries the README */
#define DIRECT_URL_SIZE_MAX (64 * 1024)

typedef struct DistInfo {
        char *name;    /* as METADATA spells it */
        char *version; /* as METADATA spells it */
        char *path;    /* the .dist-info directory */
} DistInfo;

DistInfo *dist_info_free(DistInfo *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(DistInfo *, dist_info_free);

/* PEP 503 normalisation: lower case, runs of "-_." become one '-'. */
char *python_name_normalize(const char *name);
/* Whether two distribution names are one after normalisation (false when out of memory or NULL). */
bool python_name_equal(const char *a, const char *b);

#define PYTHON_NAME_MAX       128 /* bytes of a distribution name this tool accepts */
#define PYTHON_IDENTIFIER_MAX 100 /* bytes of a Django app label this tool accepts */

/*
 * Whether 's' is a distribution name as PEP 508 spells one: ASCII letters and digits,
 * '.', '_', '-' inside, a letter or digit at each end, 1 to PYTHON_NAME_MAX bytes. Such a
 * name has no '/', no ".." component and no control character: it may name a file.
 */
bool python_name_valid(const char *s);

/*
 * Whether 's' is a Django app label this tool uses: an ASCII Python identifier
 * ([A-Za-z_][A-Za-z0-9_]*), 1 to PYTHON_IDENTIFIER_MAX bytes. Django itself wants an
 * identifier; ASCII only, so that a label names one directory and nothing that looks alike.
 */
bool python_identifier_valid(const char *s);

/*
 * Parses METADATA text (RFC 822 headers up to the first empty line).
 * -EBADMSG when Name or Version is missing or malformed.
 */
int metadata_parse(const char *text, char **ret_name, char **ret_version);

/*
 * Finds the dist-info of 'name' under 'site_packages' and reads it.
 * -ENOENT: not installed; -ENOTUNIQ: more than one dist-info (an install in
 * progress or a broken one; the paths are returned in *ret_conflicts when given,
 * for messages: control bytes and bytes that are not UTF-8 escaped as \xNN).
 */
int dist_info_find(const char *site_packages, const char *name, DistInfo **ret,
                   char ***ret_conflicts);

/*
 * PEP 610 direct_url.json text: 1 when it records an editable install
 * ("dir_info": {"editable": true}), 0 when not, -EBADMSG when it is not one
 * JSON object.
 */
int direct_url_parse_editable(const char *text, size_t len);

/* Reads <dist_info_path>/direct_url.json: as above; -ENOENT when there is none. */
int dist_info_is_editable(const char *dist_info_path);
