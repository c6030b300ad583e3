/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's lines on stderr. Where stderr is the journal (a systemd
 * service: $JOURNAL_STREAM names it), each line starts with sd-daemon(3)'s
 * "<N>" priority prefix, so "journalctl -p err -u nautobot-verifyd" shows the
 * errors; on a terminal the lines are plain.
 */
#pragma once

#include <syslog.h>

#include "util.h"

void log_full(int priority, const char *fmt, ...) _printf_(2, 3);

#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
