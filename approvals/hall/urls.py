"""URLs of the service hall: each area's view module lists its own patterns."""

from approvals.hall.views import appointments, boards, callbacks, home, query, ratings

urlpatterns = [
    *home.urlpatterns,
    *query.urlpatterns,
    *ratings.urlpatterns,
    *boards.urlpatterns,
    *callbacks.urlpatterns,
    *appointments.urlpatterns,
]
