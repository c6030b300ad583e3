/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What inih makes of one line of an INI file, for the parsers that feed it
 * line by line (config.c, profile.c) and must know where a section begins
 * before inih tells them its keys: the line number of an error, the section
 * a missing key belongs to.
 */
#pragma once

#include <stdbool.h>

/*
 * 'line' is line number 'line_no' (a UTF-8 BOM on line 1 is skipped, as inih
 * does). *ret_indented: it starts with a blank. A section header is '[', up
 * to ']' unless an inline comment (" ;") comes first; an indented line after
 * a key ('after_key') continues that value, whatever it holds. Returns 1 and
 * the section's name in *ret_section (caller frees) for a header, 0 for any
 * other line, -ENOMEM.
 */
int ini_line_header(const char *line, unsigned line_no, bool after_key, bool *ret_indented,
                    char **ret_section);
