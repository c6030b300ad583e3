/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared helpers that guard input: reading a file (never blocking on a
 * FIFO or a device, never reading anything but a regular file) and escaping
 * server-supplied text for a terminal; the name<->enum table lookups.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "result.h"
#include "test.h"
#include "util.h"
#include "version.h"

static void on_alarm(int sig)
{
        static const char m[] = "read_file_bounded blocked (alarm)\n";

        (void)sig;
        (void)!write(STDERR_FILENO, m, sizeof(m) - 1);
        _exit(1);
}

static void test_read_fifo(void)
{
        char dir[] = "/tmp/nvd-test-util-XXXXXX";
        _cleanup_free_ char *fifo = NULL, *data = NULL;

        ASSERT(mkdtemp(dir));
        fifo = strjoin_printf("%s/METADATA", dir);
        ASSERT(fifo);
        ASSERT(mkfifo(fifo, 0600) == 0);
        /* Nobody opens the other end: an open without O_NONBLOCK would wait forever. */
        signal(SIGALRM, on_alarm);
        alarm(2);
        ASSERT(read_file_bounded(fifo, 4096, &data, NULL) == -EBADFD);
        alarm(0);
        ASSERT(!data);
        ASSERT(read_file_bounded(dir, 4096, &data, NULL) == -EISDIR);
        ASSERT(read_file_bounded("/dev/null", 4096, &data, NULL) == -EBADFD);
        ASSERT_STREQ(read_file_error_to_string(-EBADFD), "not a regular file");
        ASSERT_STREQ(read_file_error_to_string(-EISDIR), "not a regular file (a directory)");
        ASSERT_STREQ(read_file_error_to_string(-ENOENT), strerror(ENOENT));
        unlink(fifo);
        rmdir(dir);
}

static void test_read_regular(void)
{
        char path[] = "/tmp/nvd-test-util-XXXXXX";
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int fd = mkstemp(path);

        ASSERT(fd >= 0);
        ASSERT(write(fd, "hello\n", 6) == 6);
        close(fd);
        ASSERT(read_file_bounded(path, 4096, &data, &len) == 0);
        ASSERT(len == 6);
        ASSERT_STREQ(data, "hello\n");
        data = mfree(data);
        ASSERT(read_file_bounded(path, 5, &data, &len) == -EFBIG);
        ASSERT(!data);
        unlink(path);
}

static void escaped(const char *in, const char *want)
{
        _cleanup_free_ char *got = str_escape_control(in);

        ASSERT_STREQ(got, want);
}

static void test_escape_control(void)
{
        escaped("plain text, 2026.5.12 \u2192 2026.5.17", "plain text, 2026.5.12 \u2192 2026.5.17");
        escaped("", "");
        /* A title change and a screen clear, as a hostile server would send them. */
        escaped("login failed\x1b]0;owned\x07\x1b[2J", "login failed\\x1b]0;owned\\x07\\x1b[2J");
        escaped("a\nb\tc\rd", "a\\nb\\tc\\rd");
        escaped("del\x7f", "del\\x7f");
        escaped("\x01\x1f", "\\x01\\x1f");
        /* C1 controls in UTF-8 (U+009B is a one-byte CSI on some terminals) and invalid bytes. */
        escaped("csi\xc2\x9b"
                "31m",
                "csi\\xc2\\x9b31m");
        escaped("bad\x9b"
                "x\xff",
                "bad\\x9bx\\xff");
        escaped("cut\xe2\x86", "cut\\xe2\\x86");
}

typedef enum Fruit { FRUIT_APPLE, FRUIT_PEAR, FRUIT_FIG, _FRUIT_MAX } Fruit;
static const char *const fruit_table[_FRUIT_MAX] = {
        [FRUIT_APPLE] = "apple", [FRUIT_FIG] = "fig", /* FRUIT_PEAR has no name */
};
DEFINE_STRING_TABLE_LOOKUP_TO_STRING_FULL(fruit, Fruit, fruit_table, , static);
DEFINE_STRING_TABLE_LOOKUP_FROM_STRING_FULL(fruit, fruit_table, , static);

static const struct {
        const char *name;
        int weight;
} box_table[] = {{"small", 1}, {"large", 9}};
DEFINE_STRING_TABLE_LOOKUP_TO_STRING_FULL(box, int, box_table, .name, static);
DEFINE_STRING_TABLE_LOOKUP_FROM_STRING_FULL(box, box_table, .name, static);

static void test_string_table(void)
{
        ASSERT_STREQ(fruit_to_string(FRUIT_APPLE), "apple");
        ASSERT_STREQ(fruit_to_string(FRUIT_FIG), "fig");
        ASSERT(fruit_to_string(FRUIT_PEAR) == NULL);
        ASSERT(fruit_to_string(_FRUIT_MAX) == NULL);
        ASSERT(fruit_to_string((Fruit)-1) == NULL);
        ASSERT(fruit_from_string("fig") == FRUIT_FIG);
        ASSERT(fruit_from_string("pear") == -EINVAL);
        ASSERT(fruit_from_string(NULL) == -EINVAL);
        ASSERT_STREQ(box_to_string(1), "large");
        ASSERT(box_to_string(2) == NULL);
        ASSERT(box_from_string("small") == 0);
        ASSERT(box_from_string("medium") == -EINVAL);
        /* The tables of the library round-trip. */
        for (CheckState s = 0; s < _CHECK_STATE_MAX; s++)
                ASSERT(check_state_from_string(check_state_to_string(s)) == (int)s);
        for (VersionChange c = 0; c < _VERSION_CHANGE_MAX; c++)
                ASSERT(version_change_from_string(version_change_to_string(c)) == (int)c);
}

int main(void)
{
        RUN(test_read_fifo);
        RUN(test_read_regular);
        RUN(test_escape_control);
        RUN(test_string_table);
        return 0;
}
