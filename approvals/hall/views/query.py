"""(being written: issue 10)"""

urlpatterns: list = []
