"""Published test vectors of the two RFCs behind TOTP, for checks and tests."""

# RFC 4226 (HOTP), Appendix D: the secret and its first HOTP values (6 digits).
RFC4226_KEY = b"12345678901234567890"
RFC4226_HOTP = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]
# RFC 4226, section 5.4: the worked example of dynamic truncation (gives 872921).
RFC4226_MAC = bytes.fromhex("1f8698690e02ca16618550ef7f19da8e945b555a")

# RFC 6238 (TOTP), Appendix B: the SHA-1 rows (same key, 8 digits, 30-second steps).
RFC6238_KEY = RFC4226_KEY
RFC6238_SHA1 = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
