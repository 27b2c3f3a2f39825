from django.contrib import admin

admin.site.site_header = "langlearn staff console"
admin.site.site_title = "langlearn"
# The index links to the pipeline overview page (/admin/overview/).
admin.site.index_template = "admin/langlearn_index.html"
