/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Root reads, then drops. Started as root (an admin's "sudo nautobot-verifyd
 * --once", "sudo nautobot-verifyctl verify"), a program of this project reads
 * its configuration and secrets through chase.h and then becomes, for good,
 * the account Nautobot runs as (the units' User=), before it touches anything
 * that account controls: the state directory, the environment file, the
 * site-packages tree, the network, a child. needrestart's 2024 local-root
 * bugs came from a root tool acting on what the monitored account controls.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*
 * Becomes uid/gid with exactly 'groups' (setgroups, setresgid, setresuid),
 * and makes sure there is no way back: -EPERM when root could be regained.
 */
int privilege_drop(uid_t uid, gid_t gid, const gid_t *groups, size_t n_groups);

/*
 * Makes the state directory 'path' ready for 'uid' while we are still root:
 * its parent is opened through chase_open_strict(); a missing directory is
 * created (0700) and given to uid/gid through its descriptor; an existing one
 * must be a directory, not a link, and belong to uid (-EPERM with the reason
 * and what to do in *ret_error otherwise). 'uid' 0: it must belong to root
 * and be writable by nobody else.
 */
int privilege_prepare_state_directory(const char *path, uid_t uid, gid_t gid, char **ret_error);

/*
 * Runs fn(userdata) in a child process that first becomes uid/gid (no
 * supplementary groups), and returns what fn returned (a negative errno, or
 * 0). For one small act as another account, e.g. writing into a directory
 * that account owns. fn must only make system calls: it runs after fork().
 */
int privilege_run_as(uid_t uid, gid_t gid, int (*fn)(void *userdata), void *userdata);

/*
 * Reads a whole regular file of at most 'max' bytes (read_file_bounded()) as
 * uid/gid: a child that became that account reads it and hands the bytes over
 * a pipe. For root reading a file another account controls (an environment
 * file of Nautobot's unit): root sees only what that account may see, and no
 * link it planted leads anywhere else.
 */
int privilege_read_file_as(uid_t uid, gid_t gid, const char *path, size_t max, char **ret,
                           size_t *ret_len);
