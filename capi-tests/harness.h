/* A tiny test harness for the C API tests.
 *
 * Each test is a function; a failed CHECK prints the file, line and expression and ends the
 * test. The runner prints one line per test, "ok   SUITE.TEST" or "FAIL SUITE.TEST: ...",
 * which capi-tests/run.sh counts, and exits non-zero if any test failed or none ran. */
#ifndef CAPI_HARNESS_H
#define CAPI_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct capi_test {
	const char *name;
	void (*fn)(void);
};

static const char *capi_suite = "capi";
static int capi_current_failed;
static const char *capi_current_skipped;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			printf("     %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			capi_current_failed = 1;                                     \
			return;                                                      \
		}                                                                    \
	} while (0)

/* Like CHECK, printing both integers when they differ. */
#define CHECK_EQ_INT(actual, expected)                                               \
	do {                                                                         \
		long long capi_a = (long long)(actual), capi_e = (long long)(expected); \
		if (capi_a != capi_e) {                                              \
			printf("     %s:%d: %s is %lld, expected %s = %lld\n", __FILE__, \
			       __LINE__, #actual, capi_a, #expected, capi_e);        \
			capi_current_failed = 1;                                     \
			return;                                                      \
		}                                                                    \
	} while (0)

#define CHECK_EQ_STR(actual, expected)                                               \
	do {                                                                         \
		const char *capi_a = (actual), *capi_e = (expected);                 \
		if (!capi_a || !capi_e || strcmp(capi_a, capi_e) != 0) {            \
			printf("     %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,  \
			       __LINE__, #actual, capi_a ? capi_a : "(null)",        \
			       capi_e ? capi_e : "(null)");                          \
			capi_current_failed = 1;                                     \
			return;                                                      \
		}                                                                    \
	} while (0)

/* Ends the test as skipped, loudly, with the reason (a kernel feature this host lacks). It
 * counts neither as passed nor as failed. */
#define SKIP(reason)                                                                 \
	do {                                                                         \
		capi_current_skipped = (reason);                                     \
		return;                                                              \
	} while (0)

#define TEST_ENTRY(fn) { #fn, fn }

static int capi_run(const char *suite, const struct capi_test *tests, size_t n)
{
	size_t i, failed = 0;

	capi_suite = suite;
	for (i = 0; i < n; i++) {
		capi_current_failed = 0;
		capi_current_skipped = NULL;
		tests[i].fn();
		if (capi_current_skipped && !capi_current_failed) {
			printf("SKIPPED %s.%s: %s\n", capi_suite, tests[i].name, capi_current_skipped);
			fflush(stdout);
			continue;
		}
		printf("%s %s.%s\n", capi_current_failed ? "FAIL" : "ok  ", capi_suite, tests[i].name);
		fflush(stdout);
		failed += capi_current_failed;
	}
	return (n == 0 || failed) ? 1 : 0;
}

#define RUN_TESTS(suite, tests) capi_run(suite, tests, sizeof(tests) / sizeof(tests[0]))

#endif /* CAPI_HARNESS_H */
