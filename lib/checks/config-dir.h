/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the admin's files are: the configuration, its secrets, the profiles.d
 * drop-ins and one NAME/ per instance. NVD_SYSCONF_DIR comes from
 * lib/meson.build (nvd_sysconf_dir), the one place that names the directory
 * for the code, the units, the manual pages and the example configuration.
 * A header of its own so that who needs only the place (profile.h,
 * nautobot-verifyctl setup) does not take in the Config type.
 */
#pragma once

#define CONFIG_DIR          NVD_SYSCONF_DIR
#define CONFIG_FILE_NAME    "nautobot-verifyd.conf"
#define CONFIG_DEFAULT_PATH CONFIG_DIR "/" CONFIG_FILE_NAME
