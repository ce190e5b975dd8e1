# The web dashboard (web/), embedded into the binary at build time by cmake/EmbedAssets.cmake:
# editing a file under web/ regenerates embedded_assets.cc on the next build. Chart.js comes from
# the npm registry, pinned in web/package-lock.json; web/fetch.sh installs it into web/node_modules.
include(${PROJECT_SOURCE_DIR}/cmake/EmbedAssets.cmake)
set(FLEET_WEB_DIR ${PROJECT_SOURCE_DIR}/web)
fleet_embed_assets(
  TARGET fleet_service
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/embedded_assets.cc
  MISSING_HINT "Run web/fetch.sh (npm ci --no-audit --no-fund in web/) to install the pinned Chart.js, then configure again."
  ASSETS
    /                    ${FLEET_WEB_DIR}/index.html text/html
    /assets/app.js       ${FLEET_WEB_DIR}/app.js text/javascript
    /assets/app.css      ${FLEET_WEB_DIR}/app.css text/css
    /assets/chart.umd.js ${FLEET_WEB_DIR}/node_modules/chart.js/dist/chart.umd.js
                         text/javascript)

n8n_fleet_test(assets_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/assets_test.cc
  LIBS fleet_service nlohmann_json::nlohmann_json)
if(TARGET assets_test)
  target_compile_definitions(assets_test PRIVATE N8N_FLEET_WEB_DIR="${FLEET_WEB_DIR}")
endif()
