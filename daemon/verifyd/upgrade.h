/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An upgrade in progress. "pip install --upgrade" is the first of the guide's
 * five steps; a verdict taken then is a verdict on a half-done upgrade. After
 * a version change the steps still to do (migrate, collectstatic, restarts,
 * the web server serving the new release) are re-checked with the cheap
 * checks that confirm them: on a timer for those that read files, the
 * database or the web server, on systemd's JobRemoved signal for the unit
 * restarts. When all are done, or when the deadline passes first, the owner
 * is told and runs the full verification. Nothing is recorded here and no
 * check result is reported: only the steps (STATUS=, one journal entry each).
 */
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "check.h"
#include "config.h"
#include "probe.h"
#include "report.h"

typedef struct Upgrade Upgrade;

/* All steps done (deadline_passed false), or the deadline passed (true). */
typedef void (*UpgradeDone)(Upgrade *u, bool deadline_passed, void *userdata);

/*
 * 'config' and 'change' must outlive it; 'bus' may be NULL (no systemd here);
 * 'db' is Django's database as known so far (copied; NULL: not known yet).
 */
int upgrade_new(Upgrade **ret, sd_event *e, sd_bus *bus, const Config *config, const Change *change,
                const DbSettings *db, UpgradeDone done, void *userdata);
/* Django's database as the rounds learned it (NULL: not known). */
const DbSettings *upgrade_database(const Upgrade *u);
Upgrade *upgrade_free(Upgrade *u);
DEFINE_TRIVIAL_CLEANUP_FUNC(Upgrade *, upgrade_free);

/*
 * How long the verification after an upgrade waits for a web server that was
 * restarted and is booting (upgrade_web_booting()): its requests are sent again
 * until it answers, or this long.
 */
#define UPGRADE_WEB_WAIT_USEC (120 * USEC_PER_SEC)

/*
 * Done with every step but the web server answering, which was restarted and
 * is booting: the verification starts beside it and waits for it.
 */
bool upgrade_web_booting(const Upgrade *u);

/*
 * Django booted for the verification once migrate was done (probe_boot()),
 * waiting; the caller owns it now (NULL: none). The verification takes it
 * over when nothing was installed since (verify_set_warm()).
 */
Probe *upgrade_take_ahead(Upgrade *u);

/* The steps still to do, for STATUS= ("migrate (1 unapplied), restart of …"); NULL: none known. */
char *upgrade_pending(const Upgrade *u);
