# One image for every app; docker-compose.yml picks the entry point per service.
FROM node:20-bookworm-slim AS build
WORKDIR /parley
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /parley
ENV NODE_ENV=production
COPY --from=build /parley/node_modules ./node_modules
COPY --from=build /parley/dist ./dist
COPY --from=build /parley/proto ./proto
COPY package.json ./
USER node
