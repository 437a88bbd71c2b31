// checks.mjs: pass/fail reporting for the test scripts that are not node:test
// suites (browser and wasm checks): check() prints one line per check and
// counts the failures; the script ends with process.exit(checks.failures ? 1 : 0).
//
//   const checks = checker();
//   const { check } = checks;
//   check(a === b, 'what was checked', `detail shown on failure or success`);
export function checker() {
  let failures = 0;
  return {
    /** Prints `ok   what` or `FAIL what`, with `: detail` when given; returns cond. */
    check(cond, what, detail = '') {
      console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
      if (!cond) failures++;
      return cond;
    },
    get failures() {
      return failures;
    },
  };
}
