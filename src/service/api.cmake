# The HTTP API of `n8n-fleet serve`: server, routes, metrics, monthly reports, JWKS.
target_sources(fleet_service PRIVATE
  store_pool.cc metrics.cc reports.cc http_server.cc api_router.cc api_params.cc api_public.cc
  api_read.cc api_reports.cc api_push.cc api_jwks.cc)
target_link_libraries(fleet_service PUBLIC PkgConfig::HTTPLIB fmt::fmt nlohmann_json::nlohmann_json)

n8n_fleet_test(service_api_test
  SOURCES store_pool_test.cc metrics_test.cc reports_test.cc http_server_test.cc
          api_params_test.cc api_read_test.cc api_push_test.cc api_openapi_test.cc
          api_security_test.cc
  LIBS fleet_service fleet_testing PkgConfig::HTTPLIB)
if(TARGET service_api_test)
  target_compile_definitions(service_api_test PRIVATE
                             N8N_FLEET_SOURCE_DIR_DEFAULT="${PROJECT_SOURCE_DIR}")
endif()
