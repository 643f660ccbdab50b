from django.urls import path

from pejling.portfolio import assignment_views as a
from pejling.portfolio import views as v

app_name = "portfolio"
urlpatterns = [
    path("", v.challenge_index, name="challenge_list"),
    path("challenges/new/", v.challenge_create, name="challenge_create"),
    path("challenges/<int:pk>/", v.challenge_detail, name="challenge_detail"),
    path("challenges/<int:pk>/edit/", v.challenge_edit, name="challenge_edit"),
    path("challenges/<int:pk>/support/", v.challenge_support, name="challenge_support"),
    path("challenges/<int:pk>/comment/", v.challenge_comment, name="challenge_comment"),
    path("challenges/<int:pk>/steps/", v.step_add, name="step_add"),
    path("challenges/<int:pk>/steps/<int:step_pk>/", v.step_edit, name="step_edit"),
    path("challenges/<int:pk>/steps/<int:step_pk>/move/", v.step_move, name="step_move"),
    path("workshops/", v.workshop_list, name="workshop_list"),
    path("workshops/new/", v.workshop_create, name="workshop_create"),
    path("workshops/<int:pk>/", v.workshop_detail, name="workshop_detail"),
    path("teams/", v.team_list, name="team_list"),
    path("teams/new/", v.team_edit, name="team_create"),
    path("teams/<int:pk>/", v.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", v.team_edit, name="team_edit"),
    path("meetings/<int:pk>/", v.meeting_detail, name="meeting_detail"),
    path("assignments/", a.assignment_index, name="assignment_list"),
    path("assignments/new/", a.assignment_give, name="assignment_give"),
    path("assignments/<int:pk>/", a.assignment_detail, name="assignment_detail"),
    path("assignments/<int:pk>/edit/", a.assignment_edit, name="assignment_edit"),
    path("assignments/<int:pk>/advance/", a.assignment_advance, name="assignment_advance"),
    path("assignments/<int:pk>/stop/", a.assignment_stop, name="assignment_stop"),
    path("assignments/<int:pk>/link/", a.assignment_link, name="assignment_link"),
    path("assignments/<int:pk>/stages/<int:stage_pk>/", a.stage_edit, name="stage_edit"),
    path("assignments/<int:pk>/benefits/new/", a.benefit_edit, name="benefit_create"),
    path("assignments/<int:pk>/benefits/<int:benefit_pk>/", a.benefit_edit, name="benefit_edit"),
    path("benefits/", a.benefit_overview, name="benefit_overview"),
    path("ledger/", a.ledger, name="ledger"),
    path("ledger/place/<int:benefit_pk>/", a.capacity_place, name="capacity_place"),
    path("units/<str:code>/panel/", a.unit_panel, name="unit_panel"),
    path("dashboard/panel/", a.dashboard_panel, name="dashboard_panel"),
]
