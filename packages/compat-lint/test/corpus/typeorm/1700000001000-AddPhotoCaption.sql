-- expect: clean
ALTER TABLE "photo" ADD "caption" character varying;
ALTER TABLE "photo" ADD "width" integer NOT NULL DEFAULT '0';
