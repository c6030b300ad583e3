/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One INI line as inih reads it. See ini-line.h.
 */
#include <ctype.h>

#include "ini-line.h"
#include "util.h"

int ini_line_header(const char *line, unsigned line_no, bool after_key, bool *ret_indented,
                    char **ret_section)
{
        const char *start = line, *end;

        *ret_section = NULL;
        if (line_no == 1 && startswith(start, "\xEF\xBB\xBF")) /* inih skips a BOM */
                start += 3;
        *ret_indented = *start == ' ' || *start == '\t';
        start += strspn(start, " \t");
        if (*start != '[' || (*ret_indented && after_key))
                return 0;
        end = start + 1 + strcspn(start + 1, "];\n");
        while (*end == ';' && !isspace((unsigned char)end[-1]))
                end += 1 + strcspn(end + 1, "];\n");
        if (*end != ']')
                return 0;
        *ret_section = strndup(start + 1, (size_t)(end - start - 1));
        return *ret_section ? 1 : -ENOMEM;
}
