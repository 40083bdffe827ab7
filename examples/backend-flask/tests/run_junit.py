"""Runs the unit tests and writes a JUnit XML report (for the buildspec's `reports`)."""
import os
import sys
import unittest
from xml.sax.saxutils import quoteattr


def main(out_path):
    suite = unittest.defaultTestLoader.discover(os.path.dirname(__file__))
    tests = list(iter_tests(suite))  # the runner forgets tests as it runs them
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    cases = []
    failed = {id(t): m for t, m in result.failures + result.errors}
    for test in tests:
        name = quoteattr(test._testMethodName)
        cls = quoteattr(type(test).__name__)
        body = ""
        if id(test) in failed:
            body = "<failure message=\"failed\"/>"
        cases.append(f"<testcase classname={cls} name={name}>{body}</testcase>")
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(f'<testsuite name="backend-flask" tests="{len(cases)}">' + "".join(cases) +
                "</testsuite>\n")
    return 0 if result.wasSuccessful() else 1


def iter_tests(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from iter_tests(t)
        else:
            yield t


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
