from django.urls import path

from .api import AccountApi

urlpatterns = [
    path("auth/account", AccountApi.as_view(), name="account"),
]
