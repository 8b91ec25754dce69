"""Sign requests with botocore's SigV4Auth and print each Authorization header.

stdin: JSON list of {url, body_hex, headers, access_key, secret_key, token, region,
service, timestamp}; stdout: JSON list of Authorization values. Used by
sigv4_botocore.rs to check the filter's signer against an independent implementation.
"""

import datetime
import json
import sys
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

out = []
for case in json.load(sys.stdin):
    req = AWSRequest(method="POST", url=case["url"], data=bytes.fromhex(case["body_hex"]),
                     headers=case["headers"])
    creds = Credentials(case["access_key"], case["secret_key"], case["token"])
    when = datetime.datetime.strptime(case["timestamp"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(creds, case["service"], case["region"]).add_auth(req)
    out.append(req.headers["Authorization"])
json.dump(out, sys.stdout)
