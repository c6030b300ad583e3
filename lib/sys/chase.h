/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening a path as root without trusting any other account: the path is
 * resolved component by component from "/" with O_PATH|O_NOFOLLOW, and every
 * directory on the way must belong to root and be writable by nobody else (a
 * sticky directory such as /tmp is accepted when the next component belongs
 * to root), the way OpenSSH's StrictModes judges authorized_keys and
 * systemd's chase() refuses unsafe transitions. Symbolic links are followed
 * only inside such directories (so only root can have placed them). The last
 * component must belong to root and be writable by nobody else as well.
 *
 * This is how nautobot-verifyd, started as root, reads its configuration,
 * profiles and secrets, and opens what it writes as root.
 */
#pragma once

#include <stddef.h>

#define CHASE_SYMLINKS_MAX 32

/*
 * Opens 'path' (absolute) with 'flags' | O_NOFOLLOW | O_CLOEXEC after the walk
 * above. -EPERM with the reason in *ret_error ("'/var/tmp/x' is writable by
 * uid 1000") when a component is not safe, -ELOOP after CHASE_SYMLINKS_MAX
 * links, -EINVAL for a relative path, else the error of the failing call.
 */
int chase_open_strict(const char *path, int flags, int *ret_fd, char **ret_error);

/*
 * Reads a whole regular file through chase_open_strict() when we are root,
 * with plain open() otherwise (an account reads what it may read anyway), at
 * most 'max' bytes (read_fd_bounded()). *ret_error is set for -EPERM.
 */
int read_file_trusted(const char *path, size_t max, char **ret, size_t *ret_len, char **ret_error);
