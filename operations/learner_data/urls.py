from django.urls import path

from .api import AccountApi, AccountExportApi

urlpatterns = [
    path("auth/account", AccountApi.as_view(), name="account"),
    path("auth/account/export", AccountExportApi.as_view(), name="account-export"),
]
