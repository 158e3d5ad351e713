"""Size limits on every field a client can send. Documented in docs/api.md."""

MAX_BODY_BYTES = 1_048_576
MAX_NAME = 255
MAX_TEXT = 10_000
MAX_URL = 2_048
MAX_SHORT = 255
MAX_CUSTOM_KEYS = 50
MAX_CUSTOM_KEY = 64
MAX_CUSTOM_VALUE = 2_048
MAX_CONTACTS = 10
MAX_WELCOME_MESSAGES = 10
MAX_PARTICIPANTS_PER_PUT = 100
MAX_MESSAGES_PER_POST = 10
MAX_USERS_PER_BATCH_PUT = 100
MAX_BATCH_OPERATIONS = 10
MAX_PAGE = 100
DEFAULT_PAGE = 10
MAX_PARTICIPANT_LIMIT = 100_000
MAX_NOTIFICATION_DELAY = 3_600

# REST requests per app and node: sustained rate and burst.
REST_RATE_PER_SECOND = 200.0
REST_BURST = 1_000
# Failed REST authentications per source address and node: after the burst, one more every
# second; while none is left, every request from that address is a 429, right key or not.
AUTH_FAILURE_RATE_PER_SECOND = 1.0
AUTH_FAILURE_BURST = 20
