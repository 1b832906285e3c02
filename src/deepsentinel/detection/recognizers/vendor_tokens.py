"""Vendor credentials recognised by their published prefix and length (the families gitleaks' rules list).

Each entry is ``entity -> (pattern name, body)``; all bodies are RE2- and ``re``-compatible and start with a
literal prefix, so the prefilter rejects a text without one at once. Every candidate must also pass
:func:`~deepsentinel.detection.secret_values.valid_vendor_token` (no ``xxxx`` placeholders, no runs of one
character). Families whose tokens have no prefix (a 32-character hex string named ``zendesk_key``) are found by
:data:`VENDOR_NAMED`: a vendor's name in the key of an assignment and a random-looking value.
"""

from __future__ import annotations

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.assignments import ASSIGN
from deepsentinel.detection.recognizers.fragments import loose
from deepsentinel.detection.secret_values import valid_bare_secret, valid_vendor_token

__all__ = ["VENDOR_RECOGNIZERS"]

_BEFORE = r"(?<![0-9A-Za-z_\-./])"  # not the tail of a file name or path ("video_box.ico-7a38...")
# Nor the head of a longer one: "~" continues Azure's alphabet ("...OdNg~yk0" is 37 characters, not 33).
_AFTER = r"(?![0-9A-Za-z_\-~])"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

_FAMILIES: dict[str, tuple[tuple[str, str], ...]] = {
    "GOOGLE_API_KEY": (("API key", r"AIza[0-9A-Za-z_\-]{35}"),),
    "GCP_SERVICE_ACCOUNT": (("service account key id", r"\"private_key_id\"[ \t]{0,3}:[ \t]{0,3}\"[a-f0-9]{40}\""),),
    "GOOGLE_OAUTH_SECRET": (("client secret", r"GOCSPX-[0-9A-Za-z_\-]{28}"),),
    "AZURE_AD_CLIENT_SECRET": (("client secret", r"[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}"),),
    "AZURE_STORAGE_KEY": (("connection string", r"AccountKey=[A-Za-z0-9+/]{86}=="),),
    "HUGGINGFACE_TOKEN": (("access token", r"hf_[A-Za-z]{34}"), ("organization token", r"api_org_[A-Za-z]{34}")),
    "NPM_TOKEN": (("access token", r"npm_[A-Za-z0-9]{36}"),),
    "PYPI_TOKEN": (("upload token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,400}"),),
    "RUBYGEMS_TOKEN": (("API token", r"rubygems_[a-f0-9]{48}"),),
    "SENDGRID_API_KEY": (("API key", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),),
    "SENDINBLUE_API_KEY": (("API key", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),),
    "MAILGUN_KEY": (("private key", r"key-[a-f0-9]{32}"), ("public key", r"pubkey-[a-f0-9]{32}")),
    "MAILCHIMP_API_KEY": (("API key", r"[a-f0-9]{32}-us[0-9]{1,2}"),),
    "TWILIO_KEY": (("API key SID", r"SK[0-9a-fA-F]{32}"), ("account SID", r"AC[0-9a-fA-F]{32}")),
    "SHOPIFY_TOKEN": (("access token", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),),
    "SLACK_TOKEN": (("app token", r"xapp-[0-9]-[A-Z0-9]{6,14}-[0-9]{6,16}-[a-z0-9]{32,80}"),
                    ("workflow webhook", r"https://hooks\.slack\.com/(?:workflows|triggers)/[A-Za-z0-9+/]{43,56}")),
    "GITHUB_TOKEN": (("refresh token", r"ghr_[A-Za-z0-9]{36,76}"),),
    "GITLAB_TOKEN": (
        ("typed token", r"gl(?:dt|ffct|ft|rt|soat|cbt)-[0-9A-Za-z_\-]{20,64}"),
        ("agent or OAuth token", r"gl(?:agent-[0-9A-Za-z_\-]{50}|oas-[0-9A-Za-z_\-]{64}|imt-[0-9A-Za-z_\-]{25})"),
        ("pipeline trigger token", r"glptt-[0-9a-f]{40}"),
        ("runner registration token", r"GR1348941[0-9A-Za-z_\-]{20}"),
    ),
    "STRIPE_KEY": (("prod or webhook key", r"(?:(?:sk|rk)_prod_[0-9A-Za-z]{10,99}|whsec_[0-9A-Za-z]{32,64})"),),
    "DIGITALOCEAN_TOKEN": (("token", r"do[opr]_v1_[a-f0-9]{64}"),),
    "DATABRICKS_TOKEN": (("API token", r"dapi[a-f0-9]{32}(?:-[0-9])?"),),
    "DOPPLER_TOKEN": (("API token", r"dp\.pt\.[A-Za-z0-9]{43}"),),
    "DYNATRACE_TOKEN": (("API token", r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}"),),
    "EASYPOST_TOKEN": (("API token", r"EZ[AT]K[A-Za-z0-9]{54}"),),
    "DUFFEL_TOKEN": (("API token", r"duffel_(?:test|live)_[A-Za-z0-9_\-=]{43}"),),
    "FLUTTERWAVE_KEY": (("key", r"FLW(?:SECK|PUBK)_TEST-[a-hA-H0-9]{12,32}(?:-X)?"),),
    "FRAMEIO_TOKEN": (("API token", r"fio-u-[A-Za-z0-9_\-=]{64}"),),
    "GRAFANA_TOKEN": (("cloud token", r"glc_[A-Za-z0-9+/]{32,400}={0,3}"),
                      ("service account token", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
                      ("API key", r"eyJrIjoi[A-Za-z0-9]{70,400}={0,3}")),
    "HASHICORP_TOKEN": (("Terraform token", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70}"),
                        ("Vault service token", r"hvs\.[A-Za-z0-9_\-]{90,120}"),
                        ("Vault batch token", r"hvb\.[A-Za-z0-9_\-]{138,300}")),
    "HEROKU_API_KEY": (("v2 key", r"HRKU-AA[0-9A-Za-z_\-]{58}"),),
    "LINEAR_API_KEY": (("API key", r"lin_api_[A-Za-z0-9]{40}"),),
    "NEW_RELIC_KEY": (("key", r"NR(?:AK-[A-Za-z0-9]{27}|II-[A-Za-z0-9\-]{32}|JS-[a-f0-9]{19})"),),
    "NOTION_TOKEN": (("API token", r"ntn_[0-9]{11}[A-Za-z0-9]{35}"),
                     ("integration secret", r"secret_[A-Za-z0-9]{43}")),
    "POSTMAN_API_KEY": (("API key", r"PMAK-[A-Fa-f0-9]{24}-[A-Fa-f0-9]{34}"),),
    "PREFECT_TOKEN": (("API token", r"pnu_[A-Za-z0-9]{36}"),),
    "PULUMI_TOKEN": (("API token", r"pul-[a-f0-9]{40}"),),
    "PLANETSCALE_TOKEN": (("token", r"pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.\-]{32,64}"),),
    "PERPLEXITY_API_KEY": (("API key", r"pplx-[A-Za-z0-9]{48}"),),
    "README_TOKEN": (("API token", r"rdme_[a-z0-9]{70}"),),
    "SCALINGO_TOKEN": (("API token", r"tk-us-[A-Za-z0-9_\-]{48}"),),
    "SENTRY_TOKEN": (("user token", r"sntryu_[a-f0-9]{64}"), ("org token", r"sntrys_eyJpYXQiO[A-Za-z0-9+/=_]{60,500}")),
    "SHIPPO_TOKEN": (("API token", r"shippo_(?:live|test)_[a-fA-F0-9]{40}"),),
    "SQUARE_TOKEN": (("access token", r"(?:EAAA|sq0atp-)[A-Za-z0-9_\-]{22,60}"),
                     ("OAuth secret", r"sq0csp-[A-Za-z0-9_\-]{43}")),
    "ARTIFACTORY_TOKEN": (("API key", r"AKCp[A-Za-z0-9]{69}"), ("reference token", r"cmVmd[A-Za-z0-9]{59}")),
    "ATLASSIAN_TOKEN": (("API token", r"ATATT3[A-Za-z0-9_\-=]{186}"),),
    "AGE_SECRET_KEY": (("secret key", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),),
    "ALIBABA_ACCESS_KEY": (("access key id", r"LTAI[A-Za-z0-9]{20}"),),
    "ONEPASSWORD_SECRET": (("secret key", r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"),
                           ("service account token", r"ops_eyJ[A-Za-z0-9+/]{250,1000}={0,3}")),
    "CLOUDFLARE_KEY": (("origin CA key", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),),
    "FACEBOOK_TOKEN": (("page access token", r"EAA[MC][A-Za-z0-9]{100,300}"),),
    "FLYIO_TOKEN": (("access token", r"(?:fo1_[A-Za-z0-9_\-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,600}={0,3})"),),
    "INFRACOST_TOKEN": (("API token", r"ico-[A-Za-z0-9]{32}"),),
    "MAXMIND_LICENSE_KEY": (("license key", r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk"),),
    "OCTOPUS_DEPLOY_KEY": (("API key", r"API-[A-Z0-9]{26}"),),
    "OPENSHIFT_TOKEN": (("user token", r"sha256~[A-Za-z0-9_\-]{43}"),),
    "SETTLEMINT_TOKEN": (("access token", r"sm_(?:aat|pat|sat)_[A-Za-z0-9]{16}"),),
    "SOURCEGRAPH_TOKEN": (("access token", r"sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}"),),
    "CLICKHOUSE_KEY": (("API secret", r"4b1d[A-Za-z0-9]{38}"),),
    "CLOJARS_TOKEN": (("API token", r"CLOJARS_[A-Za-z0-9]{60}"),),
    "DISCORD_WEBHOOK": (("webhook URL", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,68}"),),
    "TEAMS_WEBHOOK": (("webhook URL", r"https://[a-z0-9]{1,40}\.webhook\.office\.com/webhookb2/" + _UUID
                                      + "@" + _UUID + r"/IncomingWebhook/[a-z0-9]{32}/" + _UUID),),
    "TELEGRAM_BOT_TOKEN": (("bot token", r"[0-9]{8,10}:AA[A-Za-z0-9_\-]{33}"),),
    "AWS_BEDROCK_KEY": (("long-lived key", r"ABSK[A-Za-z0-9+/]{109,269}={0,2}"),),
}


def _recognizer(entity: str, patterns: tuple[tuple[str, str], ...]) -> PatternRecognizer:
    return PatternRecognizer(
        entity, Category.SECRET, Severity.CRITICAL,
        tuple(Pattern(name, body, 0.95, _BEFORE, _AFTER, gate=loose(body)) for name, body in patterns),
        validator=valid_vendor_token, max_length=1100, detector="secrets")


# Vendors whose keys carry no prefix: their name in the key of an assignment marks the value (gitleaks' way).
_VENDORS = (
    "adafruit|adobe|airtable|algolia|alibaba|asana|atlassian|confluence|jira|beamer|bitbucket|bittrex|meraki|"
    "cloudflare|codecov|cohere|coinbase|confluent|contentful|datadog|discord|droneci|dropbox|etsy|facebook|"
    "fastly|finicity|finnhub|flickr|freshbooks|gitter|gocardless|heroku|hubspot|intercom|jfrog|kraken|kucoin|"
    "launchdarkly|linear|linkedin|lob|looker|mailchimp|mailgun|mapbox|mattermost|messagebird|netlify|newrelic|"
    "new_relic|nytimes|okta|plaid|rapidapi|sendbird|sentry|snyk|sonar|squarespace|sumologic|telegram|travis|"
    "twitch|twitter|typeform|yandex|zendesk|twilio|sendgrid|shopify|segment|pagerduty|circleci|vercel|supabase"
)
VENDOR_NAMED = PatternRecognizer(
    "GENERIC_SECRET", Category.SECRET, Severity.CRITICAL,
    (Pattern("vendor-named assignment",
             rf"(?i:(?:[a-z0-9]{{0,30}}[_.\-])?(?:{_VENDORS})[a-z0-9_.\-]{{0,30}})" + ASSIGN
             + r"[\"'`]?([A-Za-z0-9_\-=+/.]{14,100})", 0.85, r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9_\-=+/.])",
             group=1,
             # The prefilter only needs the vendor word and the first character of an assignment: the bounded
             # repeats around them made this one expression cost the native pass 5x its other 220 together.
             gate=rf"(?i:(?:{_VENDORS})[a-z0-9_.\-]*[\"']?[ \t:=?.+])"),),
    validator=lambda v: valid_bare_secret(v) and any(c.isdigit() for c in v),
    max_length=512, detector="secrets",
)

VENDOR_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    *(_recognizer(entity, patterns) for entity, patterns in _FAMILIES.items()), VENDOR_NAMED,
)
