/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * chase.h and privilege.h as root: what root reads only through directories
 * no other account can write, the state directory it prepares, and the
 * state written by the directory's owner, never through a link.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "chase.h"
#include "privilege.h"
#include "state.h"
#include "test.h"

#define OTHER 65534 /* nobody */

static char base[] = "/tmp/nvd-test-priv-XXXXXX";

/*
 * Every path handed out, as a plain address: under valgrind a child forked by
 * privilege_run_as() exits with a leak check, and a block the parent's
 * registers alone pointed to would count as lost there. Never dereferenced
 * (the callers free their paths).
 */
static void *volatile handed_out[256];
static size_t n_handed_out;

static char *at(const char *rel)
{
        char *p = strjoin_printf("%s/%s", base, rel);

        ASSERT(p);
        handed_out[n_handed_out++ % ELEMENTSOF(handed_out)] = p;
        return p;
}

static void put(const char *rel, const char *text, mode_t mode, uid_t uid)
{
        _cleanup_free_ char *p = at(rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        ASSERT(fd >= 0);
        ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        ASSERT(fchmod(fd, mode) == 0 && fchown(fd, uid, uid) == 0);
        close(fd);
}

static void dir(const char *rel, mode_t mode, uid_t uid)
{
        _cleanup_free_ char *p = at(rel);

        ASSERT(mkdir(p, mode) == 0 && chmod(p, mode) == 0 && chown(p, uid, uid) == 0);
}

static void link_as(const char *target, const char *rel, uid_t uid)
{
        _cleanup_free_ char *p = at(rel);

        ASSERT(symlink(target, p) == 0 && lchown(p, uid, uid) == 0);
}

/* Reads rel with read_file_trusted(); returns its error, *ret_why set for -EPERM. */
static int read_rel(const char *rel, char **ret_text, char **ret_why)
{
        _cleanup_free_ char *p = at(rel);
        size_t len;

        return read_file_trusted(p, 4096, ret_text, &len, ret_why);
}

static void test_strict_reads(void)
{
        _cleanup_free_ char *text = NULL, *why = NULL, *target = NULL;

        dir("etc", 0755, 0);
        put("etc/secret", "s3cret\n", 0600, 0);
        ASSERT(read_rel("etc/secret", &text, &why) == 0);
        ASSERT_STREQ(text, "s3cret\n");
        text = mfree(text);

        /* A link root placed in a root-only directory is followed. */
        target = at("etc/secret");
        link_as(target, "etc/link", 0);
        ASSERT(read_rel("etc/link", &text, &why) == 0);
        ASSERT_STREQ(text, "s3cret\n");
        text = mfree(text);
        link_as("secret", "etc/relative", 0);
        ASSERT(read_rel("etc/relative", &text, &why) == 0);
        text = mfree(text);

        /* A directory the other account owns: its link to root's secret is refused. */
        dir("nautobot", 0755, OTHER);
        link_as(target, "nautobot/web-password", OTHER);
        ASSERT(read_rel("nautobot/web-password", &text, &why) == -EPERM);
        ASSERT(!text && why && strstr(why, "/nautobot' belongs to uid 65534"));
        why = mfree(why);

        /* Writable by others without the sticky bit; a file of another account. */
        dir("open", 0777, 0);
        put("open/token", "t\n", 0600, 0);
        ASSERT(read_rel("open/token", &text, &why) == -EPERM);
        ASSERT(why && strstr(why, "/open' is writable by its group or by others"));
        why = mfree(why);
        put("etc/theirs", "x\n", 0644, OTHER);
        ASSERT(read_rel("etc/theirs", &text, &why) == -EPERM);
        ASSERT(why && strstr(why, "belongs to uid 65534"));
        why = mfree(why);
        put("etc/writable", "x\n", 0666, 0);
        ASSERT(read_rel("etc/writable", &text, &why) == -EPERM);
        why = mfree(why);

        /* /tmp (sticky, writable by all): a root-owned entry in it is fine (base is one). */
        ASSERT(read_file_trusted("relative/path", 10, &text, NULL, &why) == -EINVAL);
        ASSERT(read_rel("etc/../etc/./secret", &text, &why) == 0);
        text = mfree(text);
        ASSERT(read_rel("nautobot/../etc/secret", &text, &why) == -EPERM);
        why = mfree(why);
        ASSERT(read_rel("etc/missing", &text, &why) == -ENOENT);
}

static void test_prepare_state_directory(void)
{
        _cleanup_free_ char *fresh = at("var/fresh"), *theirs = at("var/theirs"),
                            *linked = at("var/linked"), *other = at("var/other"), *why = NULL;
        struct stat st;

        dir("var", 0755, 0);
        /* Missing: created 0700 and given to the account. */
        ASSERT(privilege_prepare_state_directory(fresh, OTHER, OTHER, &why) == 0);
        ASSERT(stat(fresh, &st) == 0 && st.st_uid == OTHER && (st.st_mode & 0777) == 0700);
        /* The account's own: kept. */
        ASSERT(privilege_prepare_state_directory(fresh, OTHER, OTHER, &why) == 0);
        /* A link in its place: refused, the target is untouched. */
        dir("var/theirs", 0700, 0);
        link_as(theirs, "var/linked", 0);
        ASSERT(privilege_prepare_state_directory(linked, OTHER, OTHER, &why) == -EPERM);
        ASSERT(why && strstr(why, "symbolic link"));
        why = mfree(why);
        ASSERT(stat(theirs, &st) == 0 && st.st_uid == 0);
        /* Another account's: refused, naming it. */
        dir("var/other", 0700, 1234);
        ASSERT(privilege_prepare_state_directory(other, OTHER, OTHER, &why) == -EPERM);
        ASSERT(why && strstr(why, "belongs to uid 1234"));
        why = mfree(why);
        /* user=root: a root-owned one only. */
        ASSERT(privilege_prepare_state_directory(other, 0, 0, &why) == -EPERM);
        why = mfree(why);
        ASSERT(privilege_prepare_state_directory(theirs, 0, 0, &why) == 0);
}

static int touch_here(void *userdata)
{
        int fd = open(userdata, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        if (fd < 0)
                return -errno;
        close(fd);
        return geteuid() == OTHER && getuid() == OTHER && getegid() == OTHER ? 0 : -EPERM;
}

static void test_run_as(void)
{
        _cleanup_free_ char *file = at("mine/made"), *rootonly = at("etc/x");
        struct stat st;

        dir("mine", 0700, OTHER);
        ASSERT(privilege_run_as(OTHER, OTHER, touch_here, file) == 0);
        ASSERT(stat(file, &st) == 0 && st.st_uid == OTHER);
        /* The account cannot write where root alone can. */
        ASSERT(privilege_run_as(OTHER, OTHER, touch_here, rootonly) == -EACCES);
}

/* Root reading what the account controls sees only what the account may see. */
static void test_read_file_as(void)
{
        _cleanup_free_ char *theirs = at("theirs-env/nautobot.env"),
                            *linked = at("theirs-env/link"), *secret = at("etc/secret"),
                            *text = NULL;
        size_t len = 0;

        dir("theirs-env", 0755, OTHER);
        put("theirs-env/nautobot.env", "NAUTOBOT_ROOT=/opt/nautobot\n", 0600, OTHER);
        ASSERT(privilege_read_file_as(OTHER, OTHER, theirs, 4096, &text, &len) == 0);
        ASSERT_STREQ(text, "NAUTOBOT_ROOT=/opt/nautobot\n");
        ASSERT(len == strlen(text));
        text = mfree(text);
        /* Its link to root's secret leads nowhere. */
        link_as(secret, "theirs-env/link", OTHER);
        ASSERT(privilege_read_file_as(OTHER, OTHER, linked, 4096, &text, &len) == -EACCES);
        ASSERT(!text);
        /* Bounded: a file larger than asked for is refused. */
        ASSERT(privilege_read_file_as(OTHER, OTHER, theirs, 4, &text, &len) == -EFBIG);
}

/* Dropped for good: no way back to root. (Nothing on the heap: the child only exits.) */
static void test_drop_for_good(void)
{
        pid_t pid;
        int status;

        pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
                gid_t g = OTHER;

                if (privilege_drop(OTHER, OTHER, &g, 1) < 0)
                        _exit(1);
                _exit(setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 ? 2 : 0);
        }
        ASSERT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The instance's folder as a link: refused, never written or read through. */
static void test_state_never_follows_the_instance_link(void)
{
        _cleanup_free_ char *victim = at("victim"), *inst = at("state/default"),
                            *kept = at("victim/nautobot.json"), *made = at("victim/x.json");
        _cleanup_(package_state_freep) PackageState *got = NULL;
        struct stat st;

        dir("victim", 0700, 0);
        put("victim/nautobot.json", "{}", 0600, 0);
        dir("state", 0700, OTHER);
        link_as(victim, "state/default", OTHER);
        ASSERT(state_save(inst, &(PackageState){.package = (char *)"x",
                                                .version = (char *)"1",
                                                .verdict = (char *)"pass"}) == -ELOOP);
        ASSERT(stat(made, &st) < 0 && errno == ENOENT);
        ASSERT(state_load(inst, "nautobot", &got, NULL) == -ELOOP);
        ASSERT(state_quarantine(inst, "nautobot") == -ELOOP);
        ASSERT(stat(kept, &st) == 0);
        ASSERT(strstr(state_error_to_string(-ELOOP), "symbolic link"));

        /* As root, the force request is made by the state directory's owner. */
        ASSERT(unlink(inst) == 0);
        ASSERT(state_request_force(inst) == 0);
        {
                _cleanup_free_ char *force = at("state/default/" STATE_FORCE_FILE);

                ASSERT(stat(inst, &st) == 0 && st.st_uid == OTHER);
                ASSERT(stat(force, &st) == 0 && st.st_uid == OTHER);
                /* A hard link in its place is replaced, not truncated. */
                ASSERT(unlink(force) == 0 && link(kept, force) == 0);
                ASSERT(state_request_force(inst) == 0);
                ASSERT(stat(kept, &st) == 0 && st.st_size == 2 && st.st_uid == 0);
        }
}

int main(void)
{
        if (geteuid() != 0) {
                printf("SKIP: needs root: it gives files to other accounts and drops privileges\n");
                return 77;
        }
        ASSERT(mkdtemp(base) && chmod(base, 0755) == 0);
        RUN(test_strict_reads);
        RUN(test_prepare_state_directory);
        RUN(test_run_as);
        RUN(test_drop_for_good);
        RUN(test_read_file_as);
        RUN(test_state_never_follows_the_instance_link);
        {
                _cleanup_free_ char *rm = strjoin_printf("rm -rf '%s'", base);

                ASSERT(system(rm) == 0);
        }
        return 0;
}
