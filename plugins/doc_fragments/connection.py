# Copyright: hwc.apig contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  service:
    description:
      - Which product the instance belongs to.
      - V(apig) is the dedicated API Gateway (paths under C(/apigw/)), V(roma) is ROMA Connect APIC
        (paths under C(/apic/)).
      - When not set, the module's own default is used (V(apig) for most modules).
      - If not set, the environment variable E(HWC_APIG_SERVICE) is used.
    type: str
    choices: [apig, roma]
  region:
    description:
      - Region ID, for example V(cn-north-4).
      - Builds the default endpoints C(https://apig.<region>.myhuaweicloud.com),
        C(https://roma.<region>.myhuaweicloud.com) and C(https://iam.<region>.myhuaweicloud.com)
        (V(eu-west-101) uses the C(myhuaweicloud.eu) domain).
      - Either O(region) or O(endpoint) is required.
      - If not set, the first of the environment variables E(HUAWEICLOUD_SDK_REGION), E(HW_REGION_NAME) that is set is used.
    type: str
  endpoint:
    description:
      - Service endpoint URL that overrides the one built from O(region), for private endpoints,
        proxies or a local emulator. C(http://) is allowed.
      - If not set, the environment variable E(HWC_APIG_ENDPOINT) is used.
    type: str
  iam_endpoint:
    description:
      - IAM endpoint URL used for password auth, overriding the one built from O(region).
      - If not set, the environment variable E(HUAWEICLOUD_SDK_IAM_ENDPOINT) is used.
    type: str
  project_id:
    description:
      - Project ID of the region the instance is in.
      - If not set, the first of the environment variables E(HUAWEICLOUD_SDK_PROJECT_ID), E(HW_PROJECT_ID) that is set is used.
    type: str
    required: true
  instance_id:
    description:
      - ID of the gateway or ROMA Connect instance.
      - If not set, the environment variable E(HWC_APIG_INSTANCE_ID) is used.
    type: str
    required: true
  access_key:
    description:
      - Access key ID for AK/SK auth; every request is signed with C(SDK-HMAC-SHA256).
      - Give exactly one auth method - O(access_key) and O(secret_key), O(auth_token), or
        O(username), O(password) and O(domain_name).
      - Auth options set on the task (directly or through C(module_defaults)) come first. The
        environment variables of the auth options choose a method only when the task sets none, so a
        stray E(HWC_USERNAME) on the node does not clash with O(access_key) given on the task; the
        task's method may still take its other options from their environment variables.
      - If not set, the first of the environment variables E(HUAWEICLOUD_SDK_AK), E(HW_ACCESS_KEY) that is set is used.
    type: str
  secret_key:
    description:
      - Secret access key for AK/SK auth.
      - If not set, the first of the environment variables E(HUAWEICLOUD_SDK_SK), E(HW_SECRET_KEY) that is set is used.
    type: str
  security_token:
    description:
      - Security token of temporary AK/SK credentials; sent as C(X-Security-Token) and signed.
      - If not set, the first of the environment variables E(HUAWEICLOUD_SDK_SECURITY_TOKEN), E(HW_SECURITY_TOKEN) that is set is used.
    type: str
  auth_token:
    description:
      - An IAM token, sent as C(X-Auth-Token).
      - If not set, the environment variable E(HWC_AUTH_TOKEN) is used.
    type: str
  username:
    description:
      - IAM user name for password auth. The module gets a project-scoped token from IAM, keeps it
        out of every output and authenticates again once if the gateway answers 401.
      - If not set, the environment variable E(HWC_USERNAME) is used.
    type: str
  password:
    description:
      - IAM user password for password auth.
      - If not set, the environment variable E(HWC_PASSWORD) is used.
    type: str
  domain_name:
    description:
      - Account (domain) name of the IAM user, for password auth.
      - If not set, the environment variable E(HWC_DOMAIN_NAME) is used.
    type: str
  validate_certs:
    description:
      - Verify TLS certificates. Set to V(false) only for test endpoints.
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle used to verify the endpoints, for private PKI.
    type: path
  timeout:
    description:
      - Timeout of each HTTP request, in seconds.
    type: int
    default: 30
  retries:
    description:
      - How many times a retryable failure is retried, with jittered exponential backoff that
        honours C(Retry-After).
      - Reads and exports are retried on connection errors, HTTP 429 and 5xx. Writes are retried only
        where no duplicate can result (HTTP 429, or a connection that failed before the request
        was sent); after an ambiguous write failure the module reads the state again before acting.
      - One budget of O(retries) serves each logical request, a write and its resends included.
      - V(0) disables retries.
    type: int
    default: 5
  settle_timeout:
    description:
      - After a write whose outcome is unknown (a timeout, a dropped connection, a 5xx or an unreadable
        answer after the request was sent), how long in seconds the module keeps reading the state,
        with growing delays (0.5, 1, 2, 4, 8 seconds...), for the write to show before it resends what
        is still missing. A gateway may still be applying the first request, so resending earlier
        could apply it twice.
      - When the state cannot be read, or the write is still not visible and no retries are left, the
        item fails with an "outcome unknown" message naming it; running the task again finishes the
        job.
      - If not set, the environment variable E(HWC_APIG_SETTLE_TIMEOUT) is used.
    type: int
    default: 15
requirements:
  - python >= 3.8
  - requests >= 2.28.0
notes:
  - All modules of the collection are in the action group C(hwc.apig.apig), so the connection options
    can be given once with C(module_defaults).
"""
