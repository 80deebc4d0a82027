"""The demo catalog: parties, works, recordings with synthesised audio and
official stems, splits, consent (some tracks remixable, some not), and logins."""
