import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import app  # noqa: E402


class HealthCheckTest(unittest.TestCase):
    def test_reports_success_and_version(self):
        body, status = app.health_check()
        self.assertEqual(status, 200)
        self.assertTrue(body["success"])
        self.assertEqual(body["ver"], app.VERSION)


if __name__ == "__main__":
    unittest.main()
