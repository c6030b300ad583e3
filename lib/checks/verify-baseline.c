/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A run against the last passing verification (state.h's baseline): what
 * each check observed then (the Jobs, the panels, ...) against what it
 * observes now. Items added, gone or renamed become findings; gone or
 * renamed under the same release is a FAIL.
 */
#include <json-c/json.h>

#include "check.h"
#include "verify-internal.h"
#include "verify.h"

int verify_set_baseline(Verify *v, json_object *baseline)
{
        json_object *version, *observed;

        if (!baseline || !json_object_object_get_ex(baseline, "version", &version) ||
            !json_object_object_get_ex(baseline, "observed", &observed) ||
            !json_object_is_type(observed, json_type_object))
                return 0;
        if (free_and_strdup(&v->baseline_version, json_object_get_string(version)) < 0)
                return -ENOMEM;
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                json_object *items;

                if (!json_object_object_get_ex(observed, check_id_to_string(i), &items) ||
                    !json_object_is_type(items, json_type_array))
                        continue;
                for (size_t j = 0; j < json_object_array_length(items) && j < RESULT_OBSERVED_MAX;
                     j++) {
                        json_object *x = json_object_array_get_idx(items, j);

                        if (json_object_is_type(x, json_type_string) &&
                            strv_extend(&v->baseline[i], json_object_get_string(x)) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

/* "Class (Job name)" → "Class" and "Job name"; a plain title is both. */
static void split_item(const char *item, size_t *ret_key_len, const char **ret_label)
{
        const char *p = strstr(item, " (");
        size_t n = strlen(item);

        if (p && n > 0 && item[n - 1] == ')') {
                *ret_key_len = (size_t)(p - item);
                *ret_label = p + 2;
        } else {
                *ret_key_len = n;
                *ret_label = item;
        }
}

static bool same_key(const char *a, const char *b)
{
        size_t la, lb;
        const char *x, *y;

        split_item(a, &la, &x);
        split_item(b, &lb, &y);
        return la == lb && strncmp(a, b, la) == 0;
}

static bool same_label(const char *a, const char *b)
{
        size_t la, lb;
        const char *x, *y;

        split_item(a, &la, &x);
        split_item(b, &lb, &y);
        return streq(x, y);
}

static bool has_key(char **l, const char *item)
{
        STRV_FOREACH (x, l)
                if (same_key(*x, item))
                        return true;
        return false;
}

/*
 * What the server shows now against the last passing verification: items
 * added, gone, and renamed (same Job name, other class; or the other way
 * round), as findings. Whether they should be there is the check's verdict.
 */
int verify_note_changes(Verify *v, CheckResult *res, CheckId id)
{
        _cleanup_strv_free_ char **added = NULL, **gone = NULL, **renamed = NULL;
        _cleanup_free_ char *a = NULL, *g = NULL, *rn = NULL;
        const char *what = check_type(id)->observed;

        if (!what || !v->baseline_version || !res->observed || res->state != CHECK_PASS)
                return 0;
        STRV_FOREACH (x, res->observed)
                if (!has_key(v->baseline[id], *x) && strv_extend(&added, *x) < 0)
                        return -ENOMEM;
        STRV_FOREACH (x, v->baseline[id])
                if (!has_key(res->observed, *x) && strv_extend(&gone, *x) < 0)
                        return -ENOMEM;
        /* A gone and an added item with the same label (or key) are one renamed item. */
        for (size_t i = 0; gone && gone[i];) {
                size_t j = 0;

                while (added && added[j] && !same_label(gone[i], added[j]) &&
                       !same_key(gone[i], added[j]))
                        j++;
                if (!added || !added[j]) {
                        i++;
                        continue;
                }
                _cleanup_free_ char *pair = strjoin_printf("%s → %s", gone[i], added[j]);

                if (!pair || strv_extend(&renamed, pair) < 0)
                        return -ENOMEM;
                strv_remove_at(gone, i);
                strv_remove_at(added, j);
        }
        a = strv_join(added, ", ");
        g = strv_join(gone, ", ");
        rn = strv_join(renamed, ", ");
        if ((added && !a) || (gone && !g) || (renamed && !rn))
                return -ENOMEM;
        if (strv_length(added) > 0)
                (void)check_result_add_finding(
                        res, "%s added since the last passing verification (%s): %s", what,
                        v->baseline_version, a);
        /*
         * A release may drop or rename a Job (its notes say so): after a version
         * change that is a finding. Under the same release it is code that changed
         * in place (edited, or a broken install), which no upgrade explains.
         */
        if ((gone || renamed) && streq_ptr(v->version, v->baseline_version))
                return check_result_set(
                        res, CHECK_FAIL,
                        "%s the last passing verification of this same release (%s) saw are %s%s%s%s%s: the installed code changed without a new release (edited in place, or a broken install); reinstall it (pip install --force-reinstall %s==%s) and restart Nautobot's services",
                        what, v->baseline_version, gone ? "gone: " : "", strempty(g),
                        gone && renamed ? "; " : "", renamed ? "renamed: " : "", strempty(rn),
                        strempty(v->config->package), v->baseline_version);
        if (strv_length(gone) > 0)
                (void)check_result_add_finding(
                        res,
                        "%s no longer shown since the last passing verification (%s): %s (the installed code no longer declares them)",
                        what, v->baseline_version, g);
        if (renamed)
                (void)check_result_add_finding(
                        res, "%s renamed since the last passing verification (%s): %s", what,
                        v->baseline_version, rn);
        return 0;
}
