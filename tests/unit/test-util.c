/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shared helpers that guard input: reading a file (never blocking on a
 * FIFO or a device, never reading anything but a regular file) and escaping
 * server-supplied text for a terminal.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

#include "test.h"
#include "util.h"

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

int main(void)
{
        RUN(test_read_fifo);
        RUN(test_read_regular);
        RUN(test_escape_control);
        return 0;
}
