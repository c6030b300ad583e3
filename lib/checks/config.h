/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configuration: one INI file, parsed by a table of known keys. Unknown
 * sections or keys are errors reported as file:line. Secrets are never part of
 * the text, only paths to files (or systemd credentials) holding them.
 *
 * It lives beside the checks, not among the parsers, because it is the
 * configuration of what is verified: it names the checks (CheckId), finds the
 * app profiles and reads the secrets as root (chase.h). Its files, each owning
 * one concern: config.c the key table (parsers, defaults, copy, dump),
 * config-file.c reading a file and config_load(), config-finalize.c what is
 * derived and refused, config-apps.c the [app NAME] sections, the per-app copies
 * and profile discovery, config-secrets.c the secrets.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check-id.h"
#include "config-dir.h"
#include "profile.h"
#include "util.h"

#define CONFIG_KEYS_MAX         64  /* entries of the key table in config.c */
#define CONFIG_APP_SECTIONS_MAX 256 /* [app NAME] sections */
#define CONFIG_APP_NAME_MAX     128 /* NAME of [app NAME]: a Python distribution */
#define CONFIG_PROFILES_MAX     256 /* profile files per directory of [checks] profiles= */

/*
 * [app NAME]: what the configuration says about one app when [package] name= is
 * not set (all-apps mode: every app the server loads is verified). NAME is the
 * Python distribution; sections whose NAMEs normalise the same (PEP 503) are one.
 */
typedef struct AppSection {
        char *package; /* as written */
        bool verify;   /* no: not verified */
        /* NULL: the label the server (the probe) reports, <app_label>.jobs, not compared */
        char *app_label, *job_module, *job_grouping;
        char **jobs, **panels;
        unsigned line; /* of the section header, for errors */
} AppSection;

/*
 * Adding a field: config_free() frees it and config_copy() copies it. Keys of the
 * table in config.c are copied by the table; the pointer fields outside it are
 * instance_state_directory, source, app_sections and other_app_labels (profiles
 * are not copied). config.c asserts the size of this struct so that a new field
 * cannot be added without looking at both.
 */
typedef struct Config {
        /* [nautobot] */
        char *instance; /* names this Nautobot on a host with several ("default") */
        char *server;   /* path of nautobot-server */
        char *user;     /* who runs it when we are root (default: the owner of server); runas.h */
        char *root;     /* NAUTOBOT_ROOT for the child */
        char *nautobot_config;  /* NAUTOBOT_CONFIG for the child */
        char *environment_file; /* KEY=VALUE lines for the child */
        char *site_packages;    /* where the watched package's dist-info lives */
        uint64_t command_timeout_usec;
        char *url; /* base URL of the web UI, without trailing slash */
        uint64_t http_timeout_usec;
        uint64_t database_timeout_usec; /* connect and queries of the database check */
        /* [database]: explicit connection settings for the database check; they win over
         * Django's DATABASES and NAUTOBOT_DB_* (NULL: not set) */
        char *db_host;
        char *db_port;
        char *db_name;
        char *db_user;
        char *db_password_file;
        bool tls_verify;
        char *ca_file;
        char *static_root; /* STATIC_ROOT; default <root>/static */
        char **units;      /* systemd units that must run the installed release */
        char *probe;       /* the Django probe script run by nautobot-server */

        /* [credentials] */
        char *username;
        char *password_file;
        char *token_file;
        char *password_credential; /* name under $CREDENTIALS_DIRECTORY */
        char *token_credential;

        /* [package]: one app (single-app mode); name= not set: every app the server loads */
        char *package;
        char *app_label; /* required when package is set */
        char *job_module;
        char *job_grouping;
        char **jobs;   /* expected Job class names */
        char **panels; /* expected home page panel titles */

        /* [watch] */
        char **watch_packages;    /* distributions whose version changes trigger a run */
        char **expectations;      /* "name OP version" requirements on watched packages */
        uint64_t quiet_usec;      /* no event for this long: the install has settled */
        uint64_t settle_max_usec; /* give up waiting for a clean state after this */
        char *state_directory;
        char *instance_state_directory; /* <state_directory>/<instance>: this instance's files */
        uint64_t upgrade_deadline_usec; /* verify an unfinished upgrade after this long */
        uint64_t step_interval_usec;    /* re-check pending upgrade steps this often */

        /* [checks] */
        bool enabled[_CHECK_ID_MAX];
        bool use_probe;      /* [checks] django=probe: one Django boot; =command: one per check */
        size_t output_max;   /* bytes captured per child stream */
        char **profile_dirs; /* where app profiles are looked for, in order (profile.h) */

        /* [report] */
        char *prometheus_textfile; /* node_exporter textfile-collector file (NULL: none) */

        /* [app NAME] sections, in the order of their first header */
        AppSection *app_sections;
        size_t n_app_sections;

        /* Not from the file: the labels of the other apps verified in the same run (set by
         * the daemon per app). */
        char **other_app_labels;

        /* Not from the file: the secrets read as root before the daemon dropped its
         * privileges (owned by the daemon, shared by copies), or NULL: read when needed. */
        const struct SecretSet *secrets;
        /* Not from the file: "ran as user nautobot (uid 997) because …", when the daemon was
         * started as root and became that account (main.c), or NULL. */
        char *dropped_note;

        /* Found by config_finalize(): the app's profile and the other watched packages'
         * (in all-apps mode also those of the [app NAME] sections and every profile file). */
        Profile **profiles;
        size_t n_profiles;

        /* Where the keys were set, so config_finalize() names file:line: the file loaded
         * last and, per config table entry, the line that set it last (0: not in it). */
        char *source;
        unsigned key_line[CONFIG_KEYS_MAX];
} Config;

/* Returns a configuration holding the defaults. */
int config_new(Config **ret);
Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/*
 * A deep copy of 'c': every key, the [app NAME] sections, source and key_line
 * (so errors still name file:line), instance_state_directory and
 * other_app_labels. The profiles are not copied (n_profiles is 0):
 * config_finalize() loads them.
 */
int config_copy(const Config *c, Config **ret);

/* True when [package] name= is not set: every app the server loads is verified. */
bool config_all_apps(const Config *c);

/* The [app NAME] section of 'package' (PEP 503-normalised match), or NULL. */
const AppSection *config_app_section(const Config *c, const char *package);

/*
 * The configuration one app's verification runs with: a finalized copy of
 * 'base' for 'package', its app label the [app NAME] section's app-label=
 * when set, else 'label' (the server's; NULL only when the section names
 * one), job-module=, job-grouping=, jobs= and panels= from that section
 * (none: job-module= is derived from the label), and 'package' first among
 * the watched packages. When 'base' is in single-app mode for this very
 * package, its [package] keys are kept instead. config_finalize() then loads
 * this app's profile and refuses one whose label= is not the app label.
 * -EINVAL with a reason in ret_error ("path:line: ..." for a profile).
 */
int config_for_app(const Config *base, const char *package, const char *label, Config **ret,
                   char **ret_error);

/*
 * Parses 'path' over what 'c' holds (the defaults, or an earlier file). On
 * failure returns a negative errno and, when ret_error is given, a message
 * "path:line: reason" ("path: cannot open: reason" when it cannot be opened).
 * Most callers want config_load().
 */
int config_parse_file(Config *c, const char *path, char **ret_error);

/*
 * Where the configuration of 'instance' is read unless a command line says
 * otherwise, as its units read it: CONFIG_DIR/NAME/nautobot-verifyd.conf, or
 * CONFIG_DEFAULT_PATH for NULL. NULL when out of memory.
 */
char *config_default_path(const char *instance);

typedef enum ConfigLoadFlags {
        /* A file that does not exist leaves the defaults (a default path nobody named). */
        CONFIG_LOAD_MISSING_OK = 1 << 0,
        /* A configuration config_finalize() refuses is still handed back, returning 1:
         * for those who only need to know where things are (the state directory). */
        CONFIG_LOAD_REFUSED_OK = 1 << 1,
} ConfigLoadFlags;

/*
 * The one way a program gets its configuration: the defaults, the file 'path'
 * (NULL: config_default_path(instance)) parsed over them, the instance name
 * (NULL: the file's, as config_set_instance() rules), config_finalize(). Returns
 * 0 and the configuration, or a negative errno and, when ret_error is given, the
 * reason ("path:line: ..." when it is in the file). With CONFIG_LOAD_REFUSED_OK
 * a configuration that config_finalize() refuses is returned with 1 and the
 * reason (what finalize derived before it refused, the state directory
 * included, is set).
 */
int config_load(const char *path, const char *instance, ConfigLoadFlags flags, Config **ret,
                char **ret_error);

/*
 * Fills in what can be derived (site-packages from the server path, job
 * module), loads the app profiles (config_profile()) and refuses a
 * configuration an enabled check cannot run with (an empty server=,
 * username=, ...): -EINVAL and "path:line: reason" when the file set it.
 * With [package] name= set (single-app mode) it puts the package first among
 * the watched ones (unless [watch] packages= is in the file) and adds the
 * jobs= and panels= of its [app NAME] section; without (all-apps mode) it
 * refuses [checks] django=command and the other [package] keys, and loads
 * every profile of [checks] profiles= and of the [app NAME] sections.
 */
int config_finalize(Config *c, char **ret_error);

/*
 * The profile of 'package' that config_finalize() loaded (the first
 * "<dir>/<name>.conf" of [checks] profiles=), or NULL when it has none.
 * config_finalize() refuses a profile that cannot be read or parsed, with
 * "path:line: reason", and the app's profile when its label= is not app-label=.
 */
const Profile *config_profile(const Config *c, const char *package);

/*
 * Sets the instance name (the command line's --instance wins over the file),
 * as instance_name_valid() (instance-name.h) rules. -EINVAL with a reason.
 */
int config_set_instance(Config *c, const char *name, char **ret_error);

/* Writes the effective configuration as INI text. Secrets are never printed. */
int config_dump(const Config *c, FILE *f);

/*
 * Reads a secret: $CREDENTIALS_DIRECTORY/<credential> when that exists, else
 * 'path'. At most 4 KiB, one trailing newline stripped, no other control
 * characters. -ENOKEY when neither is configured.
 */
int config_read_secret(const char *path, const char *credential, char **ret, char **ret_source,
                       char **ret_error);

/* The secrets a run uses, read once by a daemon started as root before it drops (main.c). */
typedef enum SecretId {
        SECRET_WEB_PASSWORD, /* [credentials] password-file= / password-credential= */
        SECRET_API_TOKEN,    /* [credentials] token-file= / token-credential= */
        SECRET_DB_PASSWORD,  /* [database] password-file= */
        _SECRET_MAX,
} SecretId;

typedef struct Secret {
        int r;        /* 0, or config_read_secret()'s error (-ENOKEY: none configured) */
        char *value;  /* wiped when freed */
        char *source; /* the file it came from */
        char *error;  /* why it was refused, when the reader said (chase.h), or NULL */
} Secret;

typedef struct SecretSet {
        Secret secret[_SECRET_MAX];
} SecretSet;

/* Reads every secret c names, now; a secret that cannot be read keeps its error. */
int secret_set_read(const Config *c, SecretSet **ret);
SecretSet *secret_set_free(SecretSet *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(SecretSet *, secret_set_free);

/*
 * Secret 'id' of c: a copy of what c->secrets holds when set (read as root
 * before the drop), else read now. Returns as config_read_secret().
 */
int config_secret(const Config *c, SecretId id, char **ret, char **ret_source, char **ret_error);
