/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PEP 440 versions. See version.h. Parsing follows the spec's normal form
 * with its permitted spellings (case, '-', '_' and '.' separators, "alpha",
 * "c", "rev", implicit numbers); local versions sort after their public part.
 */
#include <ctype.h>
#include <stdint.h>

#include "util.h"
#include "version.h"

#define RELEASE_MAX 16

typedef struct Version {
        uint64_t epoch;
        uint64_t release[RELEASE_MAX];
        size_t n_release;
        int pre_kind; /* 0 none, 1 a, 2 b, 3 rc */
        uint64_t pre;
        bool has_post;
        uint64_t post;
        bool has_dev;
        uint64_t dev;
        const char *local; /* points into the input, or NULL */
} Version;

static bool number(const char **p, uint64_t *ret)
{
        uint64_t v = 0;

        if (!isdigit((unsigned char)**p))
                return false;
        while (isdigit((unsigned char)**p)) {
                if (v > (UINT64_MAX - 9) / 10)
                        return false;
                v = v * 10 + (uint64_t)(**p - '0');
                (*p)++;
        }
        *ret = v;
        return true;
}

static bool word(const char **p, const char *w)
{
        size_t l = strlen(w);

        if (strncasecmp(*p, w, l) != 0)
                return false;
        *p += l;
        return true;
}

static void separator(const char **p)
{
        if (**p == '.' || **p == '-' || **p == '_')
                (*p)++;
}

/* An optional number after a separator; absent means 0 (PEP 440 implicit numbers). */
static bool implicit_number(const char **p, uint64_t *ret)
{
        const char *save = *p;

        separator(p);
        if (number(p, ret))
                return true;
        *p = save;
        *ret = 0;
        return true;
}

static int parse(const char *s, Version *v)
{
        const char *p = s, *save;
        uint64_t n;

        *v = (Version){};
        while (isspace((unsigned char)*p))
                p++;
        if (*p == 'v' || *p == 'V')
                p++;
        save = p;
        if (number(&p, &n) && *p == '!') {
                v->epoch = n;
                p++;
        } else
                p = save;
        do {
                if (v->n_release >= RELEASE_MAX || !number(&p, &v->release[v->n_release]))
                        return -EINVAL;
                v->n_release++;
        } while (*p == '.' && isdigit((unsigned char)p[1]) && p++);

        save = p;
        separator(&p);
        if (word(&p, "alpha") || word(&p, "a"))
                v->pre_kind = 1;
        else if (word(&p, "beta") || word(&p, "b"))
                v->pre_kind = 2;
        else if (word(&p, "rc") || word(&p, "c") || word(&p, "preview") || word(&p, "pre"))
                v->pre_kind = 3;
        if (v->pre_kind)
                implicit_number(&p, &v->pre);
        else
                p = save;

        save = p;
        if (*p == '-' && number(&(const char *){p + 1}, &n)) { /* 1.0-1 means post 1 */
                p++;
                number(&p, &v->post);
                v->has_post = true;
        } else {
                separator(&p);
                if (word(&p, "post") || word(&p, "rev") || word(&p, "r")) {
                        v->has_post = true;
                        implicit_number(&p, &v->post);
                } else
                        p = save;
        }

        save = p;
        separator(&p);
        if (word(&p, "dev")) {
                v->has_dev = true;
                implicit_number(&p, &v->dev);
        } else
                p = save;

        if (*p == '+') {
                v->local = ++p;
                if (!*p)
                        return -EINVAL;
                while (isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_')
                        p++;
        }
        while (isspace((unsigned char)*p))
                p++;
        return *p ? -EINVAL : 0;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
        return a < b ? -1 : a > b;
}

/* Local segments: numeric parts compare as numbers and sort after alphanumeric ones. */
static int cmp_local(const char *a, const char *b)
{
        if (!a || !b)
                return !a && !b ? 0 : !a ? -1 : 1;
        while (*a || *b) {
                size_t la = strcspn(a, ".-_"), lb = strcspn(b, ".-_");
                bool na = la > 0 && strspn(a, "0123456789") >= la,
                     nb = lb > 0 && strspn(b, "0123456789") >= lb;
                int r;

                if (la == 0 || lb == 0)
                        return la == lb ? 0 : la == 0 ? -1 : 1;
                if (na && nb)
                        r = cmp_u64(strtoull(a, NULL, 10), strtoull(b, NULL, 10));
                else if (na != nb)
                        r = na ? 1 : -1;
                else {
                        r = strncasecmp(a, b, la < lb ? la : lb);
                        if (r == 0)
                                r = cmp_u64(la, lb);
                }
                if (r != 0)
                        return r < 0 ? -1 : 1;
                a += la + (a[la] != 0);
                b += lb + (b[lb] != 0);
        }
        return 0;
}

int version_compare(const char *a, const char *b, int *ret)
{
        Version x, y;
        int r;

        if (parse(a, &x) < 0 || parse(b, &y) < 0)
                return -EINVAL;
        if ((r = cmp_u64(x.epoch, y.epoch)) != 0)
                goto done;
        for (size_t i = 0; i < RELEASE_MAX && (i < x.n_release || i < y.n_release); i++)
                if ((r = cmp_u64(i < x.n_release ? x.release[i] : 0,
                                 i < y.n_release ? y.release[i] : 0)) != 0)
                        goto done;
        /* A dev release with nothing else sorts before the pre-releases of its version. */
        {
                int px = x.pre_kind ? x.pre_kind : (x.has_dev && !x.has_post) ? 0 : 4;
                int py = y.pre_kind ? y.pre_kind : (y.has_dev && !y.has_post) ? 0 : 4;

                if ((r = cmp_u64((uint64_t)px, (uint64_t)py)) != 0 ||
                    (r = cmp_u64(x.pre, y.pre)) != 0)
                        goto done;
        }
        if ((r = cmp_u64(x.has_post, y.has_post)) != 0 || (r = cmp_u64(x.post, y.post)) != 0)
                goto done;
        /* Having no dev segment sorts after having one. */
        if ((r = cmp_u64(!x.has_dev, !y.has_dev)) != 0 || (r = cmp_u64(x.dev, y.dev)) != 0)
                goto done;
        r = cmp_local(x.local, y.local);
done:
        *ret = r;
        return 0;
}

static const char *const version_change_table[_VERSION_CHANGE_MAX] = {
        [VERSION_INSTALLED] = "installed",  [VERSION_UPGRADED] = "upgrade",
        [VERSION_DOWNGRADED] = "downgrade", [VERSION_REINSTALLED] = "reinstall",
        [VERSION_CHANGED] = "change",       [VERSION_REMOVED] = "removed",
        [VERSION_RECHECK] = "recheck",
};

DEFINE_STRING_TABLE_LOOKUP(version_change, VersionChange);

VersionChange version_change(const char *old, const char *new)
{
        int r;

        if (!new)
                return VERSION_REMOVED;
        if (!old)
                return VERSION_INSTALLED;
        if (version_compare(old, new, &r) < 0)
                return streq(old, new) ? VERSION_REINSTALLED : VERSION_CHANGED;
        return r < 0 ? VERSION_UPGRADED : r > 0 ? VERSION_DOWNGRADED : VERSION_REINSTALLED;
}

static const char *const version_op_table[_VERSION_OP_MAX] = {
        [VERSION_OP_LT] = "<",  [VERSION_OP_LE] = "<=", [VERSION_OP_EQ] = "==",
        [VERSION_OP_NE] = "!=", [VERSION_OP_GE] = ">=", [VERSION_OP_GT] = ">",
};
DEFINE_PRIVATE_STRING_TABLE_LOOKUP_TO_STRING(version_op, VersionOp);

void version_requirement_done(VersionRequirement *r)
{
        free(r->package);
        free(r->version);
        *r = (VersionRequirement){};
}

int version_requirement_parse(const char *s, VersionRequirement *ret)
{
        /* Two-character operators first, so "<=" is not read as "<". */
        static const VersionOp order[] = {VERSION_OP_LE, VERSION_OP_GE, VERSION_OP_EQ,
                                          VERSION_OP_NE, VERSION_OP_LT, VERSION_OP_GT};
        const char *p = s, *name_end;
        _cleanup_free_ char *name = NULL, *version = NULL;
        int cmp;

        while (isspace((unsigned char)*p))
                p++;
        name_end = p;
        while (isalnum((unsigned char)*name_end) || (*name_end && strchr("-_.", *name_end)))
                name_end++;
        if (name_end == p)
                return -EINVAL;
        name = strndup(p, (size_t)(name_end - p));
        if (!name)
                return -ENOMEM;
        p = name_end;
        while (isspace((unsigned char)*p))
                p++;
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                const char *o = version_op_to_string(order[i]);

                if (!startswith(p, o))
                        continue;
                p += strlen(o);
                while (isspace((unsigned char)*p))
                        p++;
                version = strdup(p);
                if (!version)
                        return -ENOMEM;
                strstrip(version);
                /* The version must be one PEP 440 understands. */
                if (isempty(version) || version_compare(version, version, &cmp) < 0)
                        return -EINVAL;
                *ret = (VersionRequirement){
                        .package = TAKE_PTR(name), .op = order[i], .version = TAKE_PTR(version)};
                return 0;
        }
        return -EINVAL;
}

int version_requirement_met(const VersionRequirement *r, const char *installed)
{
        int c;

        if (version_compare(installed, r->version, &c) < 0)
                return -EINVAL;
        switch (r->op) {
        case VERSION_OP_LT:
                return c < 0;
        case VERSION_OP_LE:
                return c <= 0;
        case VERSION_OP_EQ:
                return c == 0;
        case VERSION_OP_NE:
                return c != 0;
        case VERSION_OP_GE:
                return c >= 0;
        case VERSION_OP_GT:
                return c > 0;
        default:
                return -EINVAL;
        }
}
