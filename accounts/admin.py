from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from .models import User

# simplejwt's token tables are machine-written bookkeeping (issued and revoked
# refresh tokens, accounts/services.py); staff have nothing to do there.
admin.site.unregister(OutstandingToken)
admin.site.unregister(BlacklistedToken)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = (
        "username",
        "native_language",
        "adventure_count",
        "is_staff",
        "is_active",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "native_language", "date_joined")
    search_fields = ("id", "username", "email", "first_name", "last_name")
    date_hierarchy = "date_joined"
    readonly_fields = ("id", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("id",)}),
        *(BaseUserAdmin.fieldsets or ()),
        ("Learning", {"fields": ("native_language",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).annotate(_adventure_count=Count("adventures"))

    @admin.display(description="adventures", ordering="_adventure_count")
    def adventure_count(self, user: User) -> int:
        return user._adventure_count  # type: ignore[attr-defined]
