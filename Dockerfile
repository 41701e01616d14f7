# syntax=docker/dockerfile:1
# tourhub: one image for every process; the command picks it (api, worker, migrate, ...).
#   docker build -t tourhub .
#   docker run --rm tourhub --help

# --- build: full dependencies, TypeScript -> dist/ (migrations included, compiled to .js) ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- production dependencies only ---
FROM node:20-bookworm-slim AS prod-deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---
FROM node:20-bookworm-slim AS runtime
# TOURHUB_ENV=production: no generated secrets, and the development defaults of every password and key
# are refused (docs/operations.md#production-checklist). Override it only to try the image locally.
ENV NODE_ENV=production \
    TOURHUB_ENV=production \
    TOURHUB_DATA_DIR=/var/lib/tourhub
WORKDIR /app
# Code and dependencies stay root-owned (read-only for the app); only the data folder is writable.
RUN mkdir -p /var/lib/tourhub && chown node:node /var/lib/tourhub
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["api"]
