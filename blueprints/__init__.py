"""Every blueprint of the application, registered by create_app in this order."""
from blueprints.accounts import bp as accounts_bp
from blueprints.applications import bp as applications_bp
from blueprints.audit import bp as audit_bp
from blueprints.centre import bp as centre_bp
from blueprints.centre import public_bp as public_results_bp
from blueprints.awards import bp as awards_bp
from blueprints.core import bp as core_bp
from blueprints.disbursement import bp as disbursement_bp
from blueprints.groups import bp as groups_bp
from blueprints.home import bp as home_bp
from blueprints.privacy import bp as privacy_bp
from blueprints.programmes import bp as programmes_bp
from blueprints.review import bp as review_bp
from blueprints.settlement import bp as settlement_bp

ALL_BLUEPRINTS = (core_bp, home_bp, accounts_bp, audit_bp, programmes_bp, groups_bp, applications_bp,
                 review_bp, awards_bp,
                 disbursement_bp, settlement_bp, centre_bp, public_results_bp, privacy_bp)
