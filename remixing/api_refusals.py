"""What the remixing API's writes refuse, for the OpenAPI schema.

One rule for every write: a request that is well formed but that the terms in force
(or the remix's own state) refuse now is a 409; malformed input is a 400. The answers
have the one error shape: marketplace's schema hook adds it to every documented
refusal (`marketplace.api_schema.document_error_responses`).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

TERMS_IN_FORCE = (
    "The terms in force refuse this: the track cannot be remixed now (`not_remixable`: "
    "consent revoked, splits incomplete, a takedown)"
)
BAD_RECIPE = (
    "Bad input; `fields` names each field: a recipe that is not valid for the track "
    "(`invalid_recipe`, `invalid_preset`), or a malformed body."
)

RECIPE_REFUSED = OpenApiResponse(
    description=f"{TERMS_IN_FORCE}, or they do not allow something the recipe does "
    "(`forbidden_transformation`, naming the recipe's field); or the remix is no longer a "
    "draft (`not_draft`), or the recipe was saved elsewhere since (`stale_recipe`)."
)
DESCRIBE_REFUSED = OpenApiResponse(description=f"{TERMS_IN_FORCE}.")
STEMS_REFUSED = OpenApiResponse(description=f"{TERMS_IN_FORCE}.")
TAKE_REFUSED = OpenApiResponse(
    description=f"{TERMS_IN_FORCE}, or they do not allow covers (`covers_not_allowed`); "
    "or the remix is no longer a draft (`not_draft`) or keeps as many takes as it may "
    "(`too_many_takes`)."
)
PUBLISH_REFUSED = OpenApiResponse(
    description=f"{TERMS_IN_FORCE}, or they do not allow publishing (`publication_not_allowed`); "
    "or the remix is not paid and rendered yet (`not_ready`)."
)
TAKE_DELETE_REFUSED = OpenApiResponse(
    description="The remix is being rendered with this take (`take_rendering`); "
    "delete it once the render is done."
)
INVALID_RECIPE = OpenApiResponse(description=BAD_RECIPE)
