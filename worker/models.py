from django.contrib.postgres.fields import ArrayField
from django.db import models


class ProviderBudget(models.Model):
    """One provider's share of ``PROVIDER_LIMITS``, for the whole fleet of workers.

    ``calls`` holds the grant times of the provider's most recent calls (as many
    as its limit allows per window); ``blocked_until`` is set when the provider
    answered with a ``Retry-After``. Only ``worker.ratelimits`` writes it,
    with single SQL statements (see there).
    """

    provider = models.CharField(max_length=32, primary_key=True)
    calls = ArrayField(models.DateTimeField(), default=list, blank=True)
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.provider
