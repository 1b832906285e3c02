"""Contact and location data: e-mail, phone, street address, IP and MAC addresses, date of birth."""

from __future__ import annotations

import re

from deepsentinel.detection.findings import Category, Severity
from deepsentinel.detection.recognizer import Pattern, PatternRecognizer
from deepsentinel.detection.recognizers.fragments import (
    MONTH,
    NOT_PERSONAL,
    NUM_AFTER,
    NUM_BEFORE,
    WORD_AFTER,
    WORD_BEFORE,
)
from deepsentinel.detection.validators import (
    valid_ipv4,
    valid_ipv6,
    valid_mac,
    valid_national_phone,
    valid_phone,
)

_TLDS = frozenset(
    ["com", "org", "net", "edu", "gov", "mil", "io", "co", "uk", "de", "fr", "us", "ca", "au", "info", "biz", "me", "ai", "dev", "app", "nl", "es", "it", "in", "jp", "ru", "ch", "se", "no", "eu", "xyz", "tech", "be", "at", "dk", "fi", "pl", "pt", "br", "mx", "ie", "nz", "za", "sg", "hk", "kr", "cn", "tv", "cc", "ly", "gg", "name", "pro", "online", "site", "email"]
)
# Words that, in front of " at ", make an ordinary sentence rather than an obfuscated address.
_NOT_LOCAL_PARTS = frozenset(
    ["look", "looking", "looked", "me", "him", "her", "them", "us", "you", "it", "this", "that", "arrive", "arrived", "arriving", "stay", "stayed", "meet", "met", "be", "is", "was", "are", "were", "here", "there", "home", "work", "we", "i", "they", "he", "she", "one", "based", "located", "available", "open", "closed", "good", "bad", "great", "best", "worst", "expert", "aimed", "targeted"]
)
_OBFUSCATED_SPLIT = re.compile(r"(?i)[\s\[\](){}<>]*(?:\bat\b|@|\bdot\b|\.)[\s\[\](){}<>]*")


def _valid_obfuscated_email(value: str) -> bool:
    parts = [p for p in _OBFUSCATED_SPLIT.split(value) if p]
    return len(parts) >= 3 and parts[-1].lower() in _TLDS and parts[0].lower() not in _NOT_LOCAL_PARTS


def _email_validator(value: str) -> bool:
    """The plain form needs no check; the spelled-out one must end in a real TLD and not read as prose."""
    if "@" in value and " " not in value and "[" not in value and "(" not in value:
        return value.rsplit(".", 1)[-1].isalpha()
    return _valid_obfuscated_email(value)


_AT_SPELLED = r"(?:[ \t]{0,2}[\[\(\{<][ \t]?(?i:at)[ \t]?[\]\)\}>][ \t]{0,2}|[ \t]{1,2}(?i:at)[ \t]{1,2})"
_DOT_SPELLED = r"(?:[ \t]{0,2}[\[\(\{<][ \t]?(?i:dot)[ \t]?[\]\)\}>][ \t]{0,2}|[ \t]{1,2}(?i:dot)[ \t]{1,2})"
_DOT = rf"(?:{_DOT_SPELLED}|\.)"
_LABEL = r"[A-Za-z0-9\-]{1,63}"
# Either the "at" is spelled out (dots in any form), or it is a real "@" and some "dot" is spelled out; a plain
# address never matches, so this pattern only runs on texts that really contain an obfuscated one.
_LOCAL = r"[A-Za-z0-9._%+\-]"
_SPELLED_AFTER_LOCAL = (rf"(?:{_AT_SPELLED}{_LABEL}(?:{_DOT}{_LABEL}){{1,4}}|"
                        rf"[ \t]{{0,2}}@[ \t]{{0,2}}{_LABEL}(?:\.{_LABEL}){{0,3}}{_DOT_SPELLED}{_LABEL}(?:{_DOT}{_LABEL}){{0,3}})")
_SPELLED_EMAIL = rf"{_LOCAL}{{1,64}}{_SPELLED_AFTER_LOCAL}"
_AFTER_LOCAL = r"@[A-Za-z0-9\-]{1,63}(?:\.[A-Za-z0-9\-]{1,63}){0,8}\.[A-Za-z]{2,24}"
# The gates: an address's last local character and what follows. Every match holds one, and a leading run of up
# to 64 characters cost the prefilter a state machine stepping over every byte of every text.

EMAIL_ADDRESS = PatternRecognizer(
    "EMAIL_ADDRESS", Category.PII, Severity.LOW,
    (
        Pattern("address", rf"{_LOCAL}{{1,64}}{_AFTER_LOCAL}", 0.9, r"(?<![A-Za-z0-9._%+\-])", WORD_AFTER,
                gate=_LOCAL + _AFTER_LOCAL),
        # Evasion: "jane at example dot com", "jane [at] example [dot] com", "jane@example dot com".
        Pattern("spelled out", _SPELLED_EMAIL, 0.8, r"(?<![A-Za-z0-9._%+\-])", WORD_AFTER,
                gate=_LOCAL + _SPELLED_AFTER_LOCAL),
    ),
    validator=_email_validator,
    context=("email", "e-mail", "mail", "contact", "reach"),
    max_length=260,
    detector="pii",
)


PHONE_NUMBER = PatternRecognizer(
    "PHONE_NUMBER", Category.PII, Severity.LOW,
    (
        # deepsentinel: allow-next-line
        # Phones are often listed after other numbers ("account 123456 +44 20 7946 0958"), so unlike cards they
        # may follow a digit and a space.
        Pattern("international", r"(?:\+|00)[1-9][0-9]{0,3}(?:[ \t.\-]?\(?[0-9]{1,5}\)?){2,6}", 0.8,
                r"(?<![0-9A-Za-z_+])(?<![0-9][\-./])", NUM_AFTER),
        Pattern("north american", r"(?:\+?1[ \t.\-]?)?(?:\([2-9][0-9]{2}\)|[2-9][0-9]{2})[ \t.\-]?[2-9][0-9]{2}[ \t.\-][0-9]{4}",
                0.75, r"(?<![0-9A-Za-z_+])(?<![0-9A-Za-z][\-./])", NUM_AFTER),
    ),
    validator=valid_phone,
    context=("phone", "tel", "telephone", "call", "mobile", "cell", "fax", "contact", "reach", "text", "sms",
             "whatsapp"),
    negative_context=NOT_PERSONAL,
    max_length=24,
    detector="pii",
)


_PHONE_CONTEXT = ("phone", "tel", "telephone", "call", "mobile", "cell", "fax", "contact", "reach", "text", "sms",
                  "whatsapp", "telefon", "telepono", "cep")
_PHONE_BEFORE = r"(?<![0-9A-Za-z_+])(?<![0-9][\-./])"
_TRUNK_0 = r"0[ \t\-]?\(?[2-59][0-9]{2}\)?[ \t.\-]?[0-9]{3}[ \t.\-]?(?:[0-9]{4}|[0-9]{2}[ \t.\-]?[0-9]{2})"
# National formats the patterns above miss: a trunk 0 and ten digits (Philippine mobiles "0917 123 4567",
# Turkish numbers "0532 123 45 67") and Turkey's 3-3-2-2 grouping without the 0, checked by ``phonenumbers`` for
# the Philippines and Turkey only. Not ten plain digits after a phone word: the words ("call", "text", "contact")
# are in most prompts and ten digits in many, so that pattern ran on every 2 kB prompt for one Presidio case.
NATIONAL_PHONE_NUMBER = PatternRecognizer(
    "PHONE_NUMBER", Category.PII, Severity.LOW,
    (
        Pattern("trunk 0", _TRUNK_0, 0.75, _PHONE_BEFORE, NUM_AFTER, gate=r"(?:^|[^0-9A-Za-z_+])" + _TRUNK_0),
        Pattern("3-3-2-2", r"\(?[2-5][0-9]{2}\)?[ \t.\-][0-9]{3}[ \t.\-][0-9]{2}[ \t.\-][0-9]{2}", 0.75, _PHONE_BEFORE,
                NUM_AFTER),
    ),
    validator=valid_national_phone,
    context=_PHONE_CONTEXT,
    negative_context=NOT_PERSONAL,
    max_length=24,
    detector="pii",
)


def _valid_ip(value: str) -> bool:
    return valid_ipv4(value) if "." in value else valid_ipv6(value)


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IP_ADDRESS = PatternRecognizer(
    "IP_ADDRESS", Category.PII, Severity.LOW,
    (
        Pattern("IPv4", rf"{_OCTET}(?:\.{_OCTET}){{3}}", 0.85, r"(?<![0-9A-Za-z.])", r"(?![0-9A-Za-z]|\.[0-9])"),
        # Eight groups, or a "::" somewhere: so "09:26:53" in a timestamp never even becomes a candidate.
        Pattern("IPv6", r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|"
                        r"(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4}::(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{0,4}",
                # "::ffff:256.0.0.1" is no address: a dotted tail must be a whole IPv4 address (found as one).
                0.85, r"(?<![0-9A-Za-z:])", r"(?![0-9A-Za-z:]|\.[0-9])"),
    ),
    validator=_valid_ip,
    context=("ip", "ip address", "host", "server", "client", "src", "dst", "source", "remote", "addr"),
    negative_context=("version", "ver", "v", "build", "release", "firmware", "oid", "sdk", "api version"),
    max_length=45,
    detector="pii",
)

MAC_ADDRESS = PatternRecognizer(
    "MAC_ADDRESS", Category.PII, Severity.LOW,
    (
        Pattern("colon or dash", r"[0-9A-Fa-f]{2}(?:[:\-][0-9A-Fa-f]{2}){5}", 0.85, r"(?<![0-9A-Za-z:\-])",
                r"(?![0-9A-Za-z:\-])"),
        Pattern("dotted", r"[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}", 0.8, WORD_BEFORE, r"(?![0-9A-Za-z.])"),
    ),
    validator=valid_mac,
    context=("mac", "mac address", "hardware address", "ethernet", "wifi", "bssid"),
    max_length=17,
    detector="pii",
)

_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Terrace|Ter|Way|"
    r"Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Loop|Path|Pike|Alley|Crescent|Close|Row|Walk|"
    r"Plaza|Ridge|Park|Point|Pt|Heights|Hts|Hill|Hills|Grove|Gardens|View|Crossing|Run|Pass|Center|Ctr|"
    r"Common|Commons|Creek|Estates|Harbor|Junction|Landing|Manor|Meadow|Meadows|Mill|Mills|Mount|Oval|"
    r"Route|Rte|Springs|Station|Summit|Valley|Vista|Village|Expressway|Freeway|Turnpike)"
)
_STREET_WORD = r"(?:[A-Z][a-z]{1,20}|[0-9]{1,3}(?:st|nd|rd|th))"
# The other USPS street suffixes (Publication 28, appendix C1): words that are ordinary English too ("3 Key
# Points"), so a number and one of these needs a unit after it or an address word before it.
_USPS_SUFFIX = (
    r"(?:Branch|Bridge|Brook|Brooks|Burg|Burgs|Bypass|Camp|Canyon|Cape|Causeway|Centers|Circles|Cliff|Cliffs|"
    r"Club|Corner|Corners|Course|Courts|Cove|Coves|Crest|Crossroad|Curve|Dale|Dam|Divide|Drives|Estate|"
    r"Extension|Extensions|Fall|Falls|Ferry|Field|Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|"
    r"Fort|Garden|Gateway|Glen|Glens|Green|Greens|Groves|Harbors|Haven|Hollow|Inlet|Island|Islands|Isle|"
    r"Junctions|Key|Keys|Knoll|Knolls|Lake|Lakes|Land|Light|Lights|Loaf|Lock|Locks|Lodge|Mall|Manors|Mews|"
    r"Mission|Motorway|Mountain|Mountains|Neck|Orchard|Overpass|Parks|Parkways|Passage|Pine|Pines|Plain|"
    r"Plains|Points|Port|Ports|Prairie|Radial|Ramp|Ranch|Rapid|Rapids|Rest|Ridges|River|Roads|Rue|Shoal|"
    r"Shoals|Shore|Shores|Skyway|Spring|Spur|Spurs|Squares|Stravenue|Stream|Streets|Throughway|Trace|Track|"
    r"Trafficway|Trailer|Tunnel|Underpass|Union|Unions|Valleys|Via|Viaduct|Views|Villages|Ville|Walks|Wall|"
    r"Ways|Well|Wells)"
)
_UNIT = r"(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|#)\.?[ \t]?#?[0-9A-Za-z\-]{1,6}"
_STREET_HEAD = rf"[0-9]{{1,6}}(?:[ \t]+(?:[NSEW]\.?|North|South|East|West))?(?:[ \t]+{_STREET_WORD}){{1,3}}[ \t]+"
STREET_ADDRESS = PatternRecognizer(
    "STREET_ADDRESS", Category.PII, Severity.MEDIUM,
    (Pattern("number, street, suffix, optional unit",
             rf"{_STREET_HEAD}{_SUFFIX}\.?(?:,?[ \t]+{_UNIT})?", 0.85, NUM_BEFORE, r"(?![A-Za-z])"),
     Pattern("number, street, USPS suffix, unit",
             rf"[0-9]{{2,6}}(?:[ \t]+{_STREET_WORD}){{1,2}}[ \t]+{_USPS_SUFFIX}\.?,?[ \t]+{_UNIT}", 0.8, NUM_BEFORE,
             r"(?![A-Za-z])"),
     Pattern("number, street, USPS suffix after an address word",
             rf"[0-9]{{2,6}}(?:[ \t]+{_STREET_WORD}){{1,2}}[ \t]+{_USPS_SUFFIX}\.?(?:,?[ \t]+{_UNIT})?", 0.85,
             NUM_BEFORE, r"(?![A-Za-z])", requires_context=True),
     Pattern("PO box", r"(?i:p\.?[ \t]?o\.?[ \t]?box|post[ \t]office[ \t]box)[ \t]{1,3}[0-9]{1,6}", 0.8,
             WORD_BEFORE, NUM_AFTER)),
    context=("address", "live at", "lives at", "living at", "located at", "ship to", "deliver to", "mailing",
             "residence", "home", "reside at", "moved to", "send to", "billing address", "shipping address"),
    max_length=120,
    detector="pii",
)

_DATE_PATTERNS = (
    Pattern("M/D/Y", r"(?:0?[1-9]|1[0-2])[/\-.](?:0?[1-9]|[12][0-9]|3[01])[/\-.](?:19|20)?[0-9]{2}", 0.9,
            NUM_BEFORE, NUM_AFTER, requires_context=True),
    Pattern("D/M/Y", r"(?:0?[1-9]|[12][0-9]|3[01])[/\-.](?:0?[1-9]|1[0-2])[/\-.](?:19|20)[0-9]{2}", 0.9,
            NUM_BEFORE, NUM_AFTER, requires_context=True),
    Pattern("ISO", r"(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])", 0.9, NUM_BEFORE, NUM_AFTER,
            requires_context=True),
    Pattern("Month D, Y", rf"{MONTH}\.?[ \t]+(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?,?[ \t]+(?:19|20)[0-9]{{2}}",
            0.9, WORD_BEFORE, NUM_AFTER, requires_context=True),
    Pattern("D Month Y", rf"(?:0?[1-9]|[12][0-9]|3[01])(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?{MONTH}\.?,?[ \t]+(?:19|20)[0-9]{{2}}",
            0.9, NUM_BEFORE, NUM_AFTER, requires_context=True),
)
DATE_OF_BIRTH = PatternRecognizer(
    "DATE_OF_BIRTH", Category.PII, Severity.MEDIUM,
    _DATE_PATTERNS,
    context=("dob", "d.o.b", "date of birth", "birth date", "birthdate", "birthday", "born", "born on"),
    context_window=32,
    max_length=24,
    detector="pii",
)

CONTACT_RECOGNIZERS = (EMAIL_ADDRESS, PHONE_NUMBER, NATIONAL_PHONE_NUMBER, IP_ADDRESS, MAC_ADDRESS, STREET_ADDRESS, DATE_OF_BIRTH)
