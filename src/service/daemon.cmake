# The daemon's own parts: configuration (TOML), the daily scheduler and structured logging.
find_package(tomlplusplus REQUIRED)
target_sources(fleet_service PRIVATE config.cc schedule_policy.cc scheduler.cc log.cc)
target_link_libraries(fleet_service PRIVATE tomlplusplus::tomlplusplus)

n8n_fleet_test(service_daemon_test
               SOURCES config_test.cc schedule_policy_test.cc scheduler_test.cc log_test.cc
               LIBS fleet_service fleet_testing nlohmann_json::nlohmann_json)
