from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import UserAdmin
from accounts.models import User

from .learner_data.deletion import account_delete

admin.site.site_header = "langlearn staff console"
admin.site.site_title = "langlearn"
# The index links to the pipeline overview page (/admin/overview/).
admin.site.index_template = "admin/langlearn_index.html"


class LearnerAdmin(UserAdmin):
    """Accounts' user pages, with deletion taking the learner's own path
    (``learner_data.deletion``): stories and their files, words, reviews,
    tokens; audio files removed after the commit."""

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        account_delete(user_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        with transaction.atomic():
            for user_id in queryset.values_list("pk", flat=True):
                account_delete(user_id=user_id)


admin.site.unregister(User)
admin.site.register(User, LearnerAdmin)
