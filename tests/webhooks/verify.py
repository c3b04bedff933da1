"""An independent check of Verbund's webhook signatures: the `standardwebhooks` package
(PyPI, the Standard Webhooks project's reference library) verifies every delivery the e2e
tests dumped (VERBUND_WEBHOOK_DUMP: one JSON file per delivery with the secret, the three
headers, the body as received and when it was received). The library's own clock check
(5 minutes) is applied at the time of receipt, since the dump is verified after the test
run. As a negative control, each delivery with one byte of its body changed must fail.

    python3 tests/webhooks/verify.py DIR
"""

import datetime as dt
import json
import pathlib
import sys
from unittest import mock

from standardwebhooks import webhooks
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def at(moment):
    """`datetime` as the library sees it, with `now()` at `moment`."""

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz else moment

    return Frozen


def main():
    root = pathlib.Path(sys.argv[1])
    files = sorted(root.glob("*.json"))
    if not files:
        print(f"no deliveries in {root}", file=sys.stderr)
        return 1
    bad = 0
    for f in files:
        doc = json.loads(f.read_text())
        received = dt.datetime.fromtimestamp(doc["received_at"], tz=dt.timezone.utc)
        hook = Webhook(doc["secret"])
        with mock.patch.object(webhooks, "datetime", at(received)):
            try:
                hook.verify(doc["body"], doc["headers"])
            except WebhookVerificationError as e:
                bad += 1
                print(f"{f.name}: {e}")
            tampered = doc["body"].replace('"version":', '"version": ', 1)
            try:
                hook.verify(tampered, doc["headers"])
                bad += 1
                print(f"{f.name}: a changed body verified")
            except WebhookVerificationError:
                pass
    print(f"standardwebhooks: {len(files)} deliveries verified, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
