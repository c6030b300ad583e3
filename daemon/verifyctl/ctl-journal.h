/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs of nautobot-verifyd read back from the journal (sd-journal): the
 * entries of one run share NVD_RUN_ID; each check has one entry, the verdict
 * is the "summary" entry (report-journal.c writes them). Everything read is
 * bounded: entries per command, checks per run, findings per check, bytes per
 * field.
 */
#pragma once

#include <json-c/json.h>
#include <sys/types.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "ctl.h"

#define RUN_FIELD_MAX    (16 * 1024) /* bytes kept of one field (evidence is at most 8 KiB) */
#define RUN_FINDINGS_MAX 64          /* per check (the daemon writes at most 32) */
#define RUN_CHECKS_MAX   32          /* per run (the daemon writes nine) */
#define RUN_ENTRIES_MAX  100000      /* journal entries one command looks at */
#define RUN_HISTORY_MAX  1000        /* runs "history" lists at most */

typedef struct RunCheck {
        char *check;
        char *result; /* "pass", "fail", "error", "skipped" */
        char *reason;
        char *evidence;
        char **findings;
        size_t n_findings;
        bool findings_cut; /* more than RUN_FINDINGS_MAX */
        uint64_t duration_usec;
        uint64_t realtime_usec;
} RunCheck;

typedef struct Run {
        sd_id128_t id;
        char *instance;
        char *package;
        char *app; /* the Django label */
        char *version;
        char *url;
        char *hostname;
        /* The summary entry's NVD_RESULT: "pass", "fail", "incomplete"; NULL: the run wrote
         * none (stopped before its verdict, or still running). */
        char *verdict;
        char *trigger_package;
        char *change; /* "upgrade", "downgrade", ...; NULL: not started by a change */
        char *old_version;
        char *new_version;
        unsigned passed, failed, errors, skipped;
        uint64_t duration_usec;
        uint64_t realtime_usec; /* the summary's time, else the last entry's */
        uint64_t pid;
        RunCheck checks[RUN_CHECKS_MAX];
        size_t n_checks;
        bool checks_cut; /* more check entries than RUN_CHECKS_MAX */
} Run;

/*
 * Which entries are the daemon's. SYSLOG_IDENTIFIER, NVD_* and MESSAGE are
 * whatever a client sent: any local account can write an entry that looks
 * like a run. _UID, _PID and _SYSTEMD_UNIT are journald's trusted fields (from
 * the socket's SCM_CREDENTIALS and the sender's cgroup), which no client can
 * set. An entry is trusted when its _UID is root's or the service account's,
 * the owner of the state directory (the daemon writes its state there, and
 * under systemd StateDirectory= gives it to the unit's User=; no directory:
 * root alone); and, where systemd runs (sd_booted()), when its _SYSTEMD_UNIT is
 * one of the daemon's units: nautobot-verifyd.service,
 * nautobot-verifyd-check.service or an instance of their templates. The
 * account alone is not enough there: nautobot.service runs as it too
 * (without systemd, nothing tells the two apart).
 * verify without systemd trusts only the entries of the daemon it started:
 * its _PID, with one of those uids or ours (pids are reused).
 */
#define TRUST_UIDS_MAX         3    /* root, the service account, verify's own */
#define TRUST_IGNORED_UIDS_MAX 4    /* uids named in the note */
#define TRUST_SEEN_MAX         1024 /* ignored entries told apart (each counted once) */

typedef struct RunTrust {
        const CtlOptions *o;
        bool ready; /* the rule is worked out at the first entry (the unit may create the
                     * state directory only once it runs) */
        bool units; /* systemd runs here: the entry's unit must be one of ours */
        pid_t pid;  /* > 0: only this process's entries */
        uid_t uids[TRUST_UIDS_MAX];
        size_t n_uids;
        unsigned ignored; /* entries claiming to be the daemon's that are not */
        uid_t ignored_uids[TRUST_IGNORED_UIDS_MAX];
        size_t n_ignored_uids;
        bool ignored_uids_cut;
        uint64_t seen[TRUST_SEEN_MAX]; /* hashes of the ignored entries' cursors */
        size_t n_seen;
} RunTrust;

/* The daemon's entries, by the rule above; 'o' for -c (where the state directory is). */
void run_trust_init(RunTrust *t, const CtlOptions *o);
/* Only the entries of process 'pid', verify's child (no unit to check: no systemd). */
void run_trust_init_pid(RunTrust *t, const CtlOptions *o, pid_t pid);
/*
 * Whether the entry under the cursor is trusted. An entry that is not is
 * counted (once, however often it is looked at) for run_trust_print_ignored().
 */
bool run_trust_entry(RunTrust *t, sd_journal *j);
/* "Ignored 3 journal entries claiming to be nautobot-verifyd ... (uid 1234)" on stderr, if any. */
void run_trust_print_ignored(const RunTrust *t);

Run *run_free(Run *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Run *, run_free);
void run_free_many(Run **runs, size_t n);

/* Opens the local journal, or --directory / --file. Caller logs the error. */
int run_journal_open(const CtlOptions *o, sd_journal **ret);

/*
 * Turns a run id given on the command line into one: 32 hex digits (or a
 * UUID), or a unique prefix of at least 6 hex digits of a run in the journal.
 * -EINVAL: not a run id; -ENOENT: no run has it; -ENOTUNIQ: the prefix is
 * ambiguous. *ret_error says which, naming the id.
 */
int run_resolve(sd_journal *j, RunTrust *t, const char *text, sd_id128_t *ret, char **ret_error);

/*
 * The newest run with a trusted summary (of o->instance and o->package when
 * set): -ENOENT if none. These functions look only at trusted entries.
 */
int run_find_last(sd_journal *j, RunTrust *t, const CtlOptions *o, sd_id128_t *ret);

/*
 * The runs with a summary that process 'pid' wrote (its _PID) at or after
 * 'since_usec' (CLOCK_REALTIME: pids are reused), in the order they ended (one
 * per app), the newest 'max': -ENOENT if none.
 */
int run_find_by_pid(sd_journal *j, RunTrust *t, pid_t pid, uint64_t since_usec, sd_id128_t *ids,
                    size_t max, size_t *ret_n);

/*
 * Adds the entry under the cursor to 'run': the summary, or one check's (the
 * first entry of a check wins). Other entries are ignored. The caller has
 * asked run_trust_entry() first.
 */
int run_add_entry(sd_journal *j, Run *run);

/* Every trusted entry of a run: -ENOENT when the journal has none. */
int run_load(sd_journal *j, RunTrust *t, sd_id128_t id, Run **ret);

/*
 * The summary entries, newest first, of o->instance, o->package, since
 * o->since_usec, at most o->lines (or RUN_HISTORY_MAX): runs without checks.
 * *ret_cut is set when there were more.
 */
int run_history(sd_journal *j, RunTrust *t, const CtlOptions *o, Run ***ret, size_t *ret_n,
                bool *ret_cut);

/* ---- a run once read (ctl-run.c) ---- */

/* The run's verdict word for output: its summary's, or "unfinished". */
const char *run_verdict(const Run *r);
/* The daemon's exit code for that verdict: 0 pass, 1 fail, 2 anything else. */
int run_exit_code(const Run *r);
/* The checks in report order (lib/checks' table), unknown names last. */
void run_sort_checks(Run *r);
const RunCheck *run_check(const Run *r, const char *check);

/* The run as JSON (schema "run" of README.md); checks only when 'checks', evidence when asked. */
json_object *run_to_json(const Run *r, bool checks, bool evidence);

/* ---- printed (ctl-runs.c) ---- */

/* One check as "show" prints it: name, result, duration, reason, findings (evidence if asked). */
void run_print_check(const CtlOptions *o, const RunCheck *c);
