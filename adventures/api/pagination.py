from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """``?page=N``; clients may ask for ``?page_size=`` up to 100."""

    page_size_query_param = "page_size"
    max_page_size = 100
