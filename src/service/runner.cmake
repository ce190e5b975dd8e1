target_sources(fleet_service PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/local_runner.cc)
target_sources(fleet_service PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/views.cc)
