from django.urls import path

from pejling.strategy import views

app_name = "strategy"
urlpatterns = [
    path("", views.strategy_list, name="strategy_list"),
    path("new/", views.strategy_edit, name="strategy_create"),
    path("<slug:code>/", views.strategy_detail, name="strategy_detail"),
    path("<slug:code>/edit/", views.strategy_edit, name="strategy_edit"),
    path("<slug:code>/levels/", views.strategy_levels, name="strategy_levels"),
    path("<slug:code>/history/", views.strategy_history, name="strategy_history"),
    path("<slug:code>/elements/new/", views.element_edit, name="element_create"),
    path("<slug:code>/elements/<int:pk>/", views.element_detail, name="element_detail"),
    path("<slug:code>/elements/<int:pk>/edit/", views.element_edit, name="element_edit"),
    path("<slug:code>/elements/<int:pk>/delete/", views.element_delete, name="element_delete"),
]
