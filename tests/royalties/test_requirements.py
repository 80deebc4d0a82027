"""Connect requirements in words (issue 18: "business_profile.mcc,
individual.dob.day…" was shown as is). Pure: no database."""

from royalties.requirements import requirement_labels


def test_stripe_keys_become_things_to_provide_once_each():
    keys = [
        "business_profile.mcc",
        "individual.dob.day",
        "individual.dob.month",
        "individual.dob.year",
        "external_account",
        "tos_acceptance.date",
        "tos_acceptance.ip",
        "individual.verification.document",
    ]
    assert requirement_labels(keys) == [
        "What kind of business you run (your industry)",
        "Your date of birth",
        "The bank account your payouts go to",
        "Accepting Stripe's terms of service",
        "A photo of your ID document",
    ]


def test_an_unknown_key_is_shown_in_words_not_hidden():
    assert requirement_labels(["settings.payouts.schedule"]) == ["Settings payouts schedule"]
    assert requirement_labels([]) == []
