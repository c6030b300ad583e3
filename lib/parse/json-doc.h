/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exactly one JSON document, nesting bounded, nothing after it (json-c). */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* 0 and the document in *ret (put it), -EBADMSG when text is not one JSON document, -ENOMEM. */
int json_parse_document(const char *text, size_t len, int depth_max, json_object **ret);
