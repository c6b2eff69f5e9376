"""The HTTP checks once more, with synmill on hugepages instead of --no-huge.
Reserves 512 x 2 MiB pages and mounts hugetlbfs if needed (root), restores
both afterwards. Skipped where /proc/sys/vm/nr_hugepages cannot be written."""
import unittest

from harness import Hugepages, HugepagesUnavailable, SynmillCase
from test_http import HttpChecks


@unittest.skipUnless(Hugepages.possible(), "cannot set /proc/sys/vm/nr_hugepages (not root?)")
class HugepagesHttpTest(SynmillCase, HttpChecks):
    LISTEN = "80:http"
    TIMEOUT_S = 300
    hp = None

    @classmethod
    def setUpClass(cls):
        try:
            cls.hp = cls.enterClassContext(Hugepages(512))
        except HugepagesUnavailable as e:
            raise unittest.SkipTest(str(e))
        cls.free_before = Hugepages._meminfo("HugePages_Free")
        cls.HUGE_DIR = cls.hp.dir
        super().setUpClass()

    def test_0_uses_hugepages(self):
        self.assertNotIn("--no-huge", self.env.eal_args)
        used = self.free_before - Hugepages._meminfo("HugePages_Free")
        self.assertGreater(used, 0, "synmill runs but took no hugepage")

    def test_1_sequential_1000_connections(self):
        self.check_sequential()

    def test_2_keepalive_1000_requests_curl(self):
        self.check_keepalive_curl()

